"""End-to-end tests of `greyflux serve` on loopback: protocol, bad input, reload, drain,
durability across kill -9, admin commands, store failure. Usage: daemon_test.py GREYFLUX_BINARY"""
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
import unittest

from gfdaemon import Conn, Daemon, ask_until, request

BINARY = None


class DaemonTest(unittest.TestCase):
    def setUp(self):
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop(signal.SIGKILL)
            shutil.rmtree(d.tmp, ignore_errors=True)

    def tmp_dir(self):
        path = tempfile.mkdtemp(prefix="gf-daemon-files-")
        self.addCleanup(shutil.rmtree, path, True)
        return path

    def daemon(self, *sets, extra="", **kw):
        d = Daemon(BINARY, extra=extra, sets=sets, **kw)
        self.daemons.append(d)
        return d.start()

    def test_greylists_then_passes_with_header_over_tcp_and_unix(self):
        d = self.daemon("greylist.delay=1s")
        c = Conn(d.port)
        self.assertTrue(c.ask().startswith("action=DEFER_IF_PERMIT 4.2.0 Greylisted"))
        self.assertTrue(c.ask().startswith("action=DEFER_IF_PERMIT"))
        # Retry over the unix socket until the 1 s delay has run out on the daemon's clock.
        u = Conn(path=d.unix)
        r = ask_until(u, lambda a: not a.startswith("action=DEFER"), instance="m2")
        self.assertRegex(r, r"^action=PREPEND X-Greylist: delayed \d+ seconds by greyflux-")
        self.assertEqual(c.ask(instance="m2", recipient="bob@example.org"), "action=DUNNO")
        self.assertEqual(c.ask(protocol_state="DATA"), "action=DUNNO")
        self.assertEqual(d.stop(), 0)
        self.assertIn("action=greylist reason=new", d.log_text())

    def test_bad_input_closes_only_that_connection_and_keeps_state(self):
        d = self.daemon("policy.max_request=4KiB", "policy.max_attributes=50")
        good = Conn(d.port)
        self.assertTrue(good.ask(recipient="keep@example.org").startswith("action=DEFER"))
        bad_inputs = [
            b"\x00\x01\x02\xff garbage without equals\n\n",
            b"request=smtpd_access_policy\nsender=" + b"a" * 10000,
            b"request=smtpd_access_policy\n" + b"".join(b"a%d=1\n" % i for i in range(100)) + b"\n",
            b"recipient=x@y\n\n",
            b"request=smtpd_access_policy\nx=a\x00b\n\n",
        ]
        for payload in bad_inputs:
            b = Conn(d.port)
            b.s.sendall(payload)
            self.assertTrue(b.closed_by_peer(), payload[:40])
            # the well-behaved client is still served, with its state intact
            self.assertTrue(good.ask(recipient="keep@example.org").startswith("action=DEFER"))
        # a request cut off at close
        cut = Conn(d.port)
        cut.s.sendall(request()[:40])
        cut.close()
        self.assertTrue(good.ask(recipient="keep@example.org").startswith("action=DEFER"))
        stats = d.stats()
        self.assertEqual(stats["connections.closed_bad_input"], 5)
        # The first request was new; the six after it (one per bad input, one after the cut)
        # were early retries of the same triplet.
        self.assertEqual(stats["decisions.new"], 1)
        self.assertEqual(stats["decisions.early-retry"], 6)
        listed = d.cli("greylist", "show", "keep@example.org")
        self.assertIn("keep@example.org", listed.stdout)
        self.assertTrue(d.wait_log("closing"))
        self.assertEqual(d.stop(), 0)

    def test_idle_connections_are_closed_and_max_connections_holds(self):
        d = self.daemon("policy.idle_timeout=1s", "policy.max_connections=300")
        idle = [Conn(d.port) for _ in range(280)]
        extra = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(60)]
        # Wait until the daemon has taken or refused every one of the 340 connections.
        stats = d.wait_stats(lambda s: s["connections.accepted"] + s["connections.refused"] >= 340)
        self.assertGreaterEqual(stats["connections.accepted"] + stats["connections.refused"], 340)
        self.assertGreaterEqual(stats["connections.refused"], 20)
        refused = 0
        for s in extra:
            s.settimeout(2)
            try:
                if s.recv(1) == b"":
                    refused += 1
            except (socket.timeout, ConnectionResetError):
                pass
        self.assertGreaterEqual(refused, 20)
        self.assertTrue(all(c.closed_by_peer(timeout=4) for c in idle[:20]))
        c = Conn(d.port)
        self.assertTrue(c.ask().startswith("action="))
        self.assertEqual(d.stop(), 0)

    def test_thousands_of_idle_connections_are_closed_while_others_are_served(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = min(hard, 8192)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        n = min(3000, want - 200)
        d = self.daemon("policy.idle_timeout=2s")
        idle = [socket.create_connection(("127.0.0.1", d.port)) for _ in range(n)]
        live = Conn(d.port)
        for i in range(100):
            self.assertTrue(live.ask(recipient=f"x{i}@example.org").startswith("action="))
        deadline = time.time() + 10
        closed = 0
        for s in idle:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                if s.recv(1) == b"":
                    closed += 1
            except (socket.timeout, ConnectionResetError):
                pass
            s.close()
        self.assertEqual(closed, n)
        fresh = Conn(d.port)
        self.assertTrue(fresh.ask().startswith("action="))
        self.assertEqual(d.stop(), 0)

    def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(self):
        d = self.daemon(extra='[greylist]\ndelay = "1h"\n')
        c = Conn(d.port)
        c.ask(recipient="r1@example.org")
        d.write_config('[greylist]\ndelay = "1s"\nwhitelist_clients = ["%s/wl"]\n' % d.tmp)
        with open(os.path.join(d.tmp, "wl"), "w") as f:
            f.write("203.0.113.0/24\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reloaded"))
        # The new 1 s delay counts from r1's first attempt under the old config.
        r = ask_until(c, lambda a: not a.startswith("action=DEFER"), recipient="r1@example.org")
        self.assertTrue(r.startswith("action=PREPEND"), r)
        self.assertEqual(c.ask(client_address="203.0.113.9"), "action=DUNNO")
        with open(d.config, "a") as f:
            f.write("[bogus\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reload failed, keeping the old config"))
        self.assertEqual(c.ask(client_address="203.0.113.9"), "action=DUNNO")
        self.assertEqual(d.stop(), 0)

    def test_whitelist_file_that_goes_missing_or_bad_at_sighup(self):
        wl = os.path.join(self.tmp_dir(), "clients")
        with open(wl, "w") as f:
            f.write("203.0.113.0/24\n")
        d = self.daemon(extra=f'[greylist]\ndelay = "1h"\nwhitelist_clients = ["{wl}"]\n')
        c = Conn(d.port)
        self.assertEqual(c.ask(client_address="203.0.113.9"), "action=DUNNO")
        # Missing: the reload fails with the file's name, and the old whitelist stays in force.
        os.remove(wl)
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reload failed, keeping the old config"))
        failed = [l for l in d.log_text().splitlines() if "reload failed" in l]
        self.assertIn(wl, failed[0])  # the message names the file
        self.assertEqual(c.ask(client_address="203.0.113.9"), "action=DUNNO")
        # Bad lines: each is reported with file and line and skipped, as postgrey does; the
        # good line is loaded and replaces the old list.
        with open(wl, "w") as f:
            f.write("garbage line here\n/[unclosed/\n198.51.100.0/24\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reloaded", count=1), d.log_text()[-1000:])
        log = d.log_text()
        self.assertIn(f"{wl}:1: 'garbage line here' fits no whitelist form", log)
        self.assertIn(f"{wl}:2:", log)
        self.assertIn("1 client and 0 recipient whitelist entries", log)
        self.assertEqual(c.ask(client_address="198.51.100.7"), "action=DUNNO")
        self.assertTrue(c.ask(client_address="203.0.113.9").startswith("action=DEFER"))
        # Binary garbage: one warning, an empty list, the daemon keeps serving.
        with open(wl, "wb") as f:
            f.write(b"\x00\xff\xfe binary\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertTrue(d.wait_log("reloaded", count=2), d.log_text()[-1000:])
        self.assertIn("0 client and 0 recipient whitelist entries", d.log_text())
        self.assertTrue(c.ask(client_address="198.51.100.7").startswith("action=DEFER"))
        self.assertEqual(d.stop(), 0)

    def test_sigterm_drains_open_connections_and_exits_zero(self):
        d = self.daemon()
        conns = [Conn(d.port) for _ in range(50)]
        for c in conns:
            c.ask()
        start = time.time()
        self.assertEqual(d.stop(), 0)
        self.assertLess(time.time() - start, 5)
        self.assertTrue(all(c.closed_by_peer(timeout=1) for c in conns))

    def test_kill_9_loses_at_most_the_last_commit_interval(self):
        d = self.daemon("greylist.delay=1h")
        c = Conn(d.port)
        for i in range(500):
            self.assertTrue(c.ask(recipient=f"u{i}@example.org").startswith("action=DEFER"))
        # Wait until the group commit has taken every answered write (the daemon's own counter),
        # then kill it without warning.
        deadline = time.time() + 20
        written = 0
        while time.time() < deadline:
            for line in d.cli("stats").stdout.splitlines():
                if line.startswith("store.records_written\t"):
                    written = int(line.split("\t")[1])
            if written >= 500:
                break
            time.sleep(0.05)
        self.assertGreaterEqual(written, 500)
        d.stop(signal.SIGKILL)
        d.start()
        c = Conn(d.port)
        for i in range(500):
            r = c.ask(recipient=f"u{i}@example.org")
            self.assertTrue(r.startswith("action=DEFER"), r)
        stats = d.cli("stats").stdout
        self.assertIn("decisions.early-retry\t500", stats)
        self.assertIn("decisions.new\t0", stats)
        self.assertEqual(d.stop(), 0)

    def test_admin_commands_work_while_running_and_offline(self):
        d = self.daemon("greylist.delay=1h")
        c = Conn(d.port)
        c.ask(client_address="198.51.100.4", sender="s@x.example", recipient="a@example.org")
        out = d.cli("greylist", "list")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("198.51.100.0/24\ts@x.example\ta@example.org", out.stdout)
        add = d.cli("whitelist", "add", "client", "198.51.100.0/24")
        self.assertEqual(add.returncode, 0, add.stderr)
        self.assertEqual(c.ask(client_address="198.51.100.4"), "action=DUNNO")
        self.assertIn("client\tadmin\t198.51.100.0/24", d.cli("whitelist", "list").stdout)
        self.assertEqual(d.cli("whitelist", "remove", "client", "198.51.100.0/24").returncode, 0)
        self.assertTrue(c.ask(client_address="198.51.100.4").startswith("action=DEFER"))
        self.assertEqual(d.cli("whitelist", "add", "client", "not a/valid").returncode, 1)
        deleted = d.cli("greylist", "delete", "s@x.example")
        self.assertIn("deleted 1 entries", deleted.stdout)
        self.assertEqual(d.stop(), 0)
        # offline: the CLI opens the LMDB store itself
        add = d.cli("whitelist", "add", "recipient", "postmaster@")
        self.assertEqual(add.returncode, 0, add.stderr)
        d.start()
        c = Conn(d.port)
        self.assertEqual(c.ask(recipient="postmaster@example.org"), "action=DUNNO")
        self.assertEqual(d.stop(), 0)

    def test_a_listing_over_the_row_cap_says_so_and_exits_3(self):
        # admin.max_list_rows stands in for the default 100,000: a cut listing must not pass for
        # the whole store (a script counting rows would see entries "missing").
        d = self.daemon("greylist.delay=1h", "admin.max_list_rows=3")
        c = Conn(d.port)
        for i in range(4):
            c.ask(client_address=f"198.51.100.{i}", sender=f"s{i}@x.example",
                  recipient="cap@example.org")

        def rows(out):
            return [line for line in out.stdout.splitlines()[1:] if line]

        for run in (lambda *a: d.cli(*a), lambda *a: d.cli(*a, "--set", "admin.max_list_rows=3")):
            cut = run("greylist", "list", "cap@example.org")
            self.assertEqual(cut.returncode, 3, cut.stderr)
            self.assertEqual(len(rows(cut)), 3, cut.stdout)
            self.assertIn("stops at 3 rows", cut.stderr)
            self.assertEqual(cut.stdout.splitlines()[0].split("\t")[0], "network")
            exact = run("greylist", "list", "s1@x.example")  # under the cap: the whole answer
            self.assertEqual(exact.returncode, 0, exact.stderr)
            self.assertEqual(len(rows(exact)), 1, exact.stdout)
            if d.proc.poll() is None:
                self.assertEqual(d.stop(), 0)  # then the same again offline, on the store
        d.stop()
        d.sets += ["--set", "admin.max_list_rows=4"]
        d.start()  # exactly at the cap: complete, exit 0
        full = d.cli("greylist", "list", "cap@example.org")
        self.assertEqual(full.returncode, 0, full.stderr)
        self.assertEqual(len(rows(full)), 4, full.stdout)
        self.assertEqual(d.stop(), 0)

    def test_store_failure_answers_and_keeps_serving(self):
        # A tiny map fills quickly: commits fail, requests get the configured failure answer.
        # How fast those answers come is measured in bench/latency_ratios.py, as a ratio to a
        # healthy store (a functional test on a loaded CI machine asserts no latency).
        d = self.daemon("greylist.delay=1h", "store.map_size=128KiB")
        c = Conn(d.port)
        dunno = 0
        # At least 5000 requests, and on until the map has filled (bounded): on a loaded machine
        # the idle-priority writer may not have committed anything after 5000.
        deadline = time.time() + 60
        i = 0
        while i < 5000 or (dunno == 0 and time.time() < deadline):
            r = c.ask(recipient=f"{'x' * 150}{i}@example.org")
            self.assertTrue(r.startswith(("action=DUNNO", "action=DEFER_IF_PERMIT")), r)
            dunno += r == "action=DUNNO"
            i += 1
        self.assertGreater(dunno, 0, "the store never failed")
        self.assertTrue(d.wait_log("store failure"))
        stats = d.stats()
        self.assertGreater(stats["store.commit_failures"], 0)
        self.assertEqual(stats["decisions.store-failure"], dunno)
        self.assertTrue(Conn(d.port).ask().startswith("action="))  # still serving
        self.assertEqual(d.stop(), 0)

    def test_memory_backend_and_ipv6_listener(self):
        d = Daemon(BINARY, backend="memory")
        self.daemons.append(d)
        port6 = d.port + 1 if d.port < 65000 else d.port - 1
        d.write_config("", backend="memory")
        with open(d.config) as f:
            cfg = f.read().replace('listen = [', f'listen = ["[::1]:{port6}", ')
        with open(d.config, "w") as f:
            f.write(cfg)
        d.start()
        s = socket.create_connection(("::1", port6), timeout=5)
        s.sendall(request(client_address="2001:db8::25"))
        self.assertTrue(s.recv(4096).startswith(b"action=DEFER_IF_PERMIT"))
        s.close()
        self.assertEqual(d.stop(), 0)

    def test_startup_errors_are_clear(self):
        d = Daemon(BINARY, extra='[greylist]\ndelay = "five minutes"\n')
        self.daemons.append(d)
        with self.assertRaises(RuntimeError) as ctx:
            d.start()
        self.assertIn("greylist.delay", str(ctx.exception))


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
