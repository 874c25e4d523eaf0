"""Privilege drop of `greyflux serve` (issue 17), as root on loopback.

- Started as root with [daemon] user = nobody, on a port below 1024 (root only): it serves, and
  every thread in /proc/PID/task/*/status has uid/gid nobody (real, effective, saved, fs), no
  capability in any set, no_new_privs; the data directory and its LMDB files belong to nobody;
  SIGHUP still reloads and SIGTERM still exits 0.
- Started as root with no user: exit 2 and one line saying what to set; nothing is bound.
- A user that does not exist: exit 2, one line naming daemon.user.
- Started as nobody with CAP_NET_BIND_SERVICE as an ambient capability (systemd's
  AmbientCapabilities=, through setpriv): it binds the low port, then holds no capability.
Skipped unless run as root.

Usage: privileges_test.py GREYFLUX_BINARY
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gfdaemon import Conn  # noqa: E402
from data_dir_test import wait_port  # noqa: E402

BINARY = None
NOBODY = pwd.getpwnam("nobody")


def free_low_port():
    """A free TCP port below 1024 on 127.0.0.1 (binding one needs root)."""
    for port in range(1000, 900, -1):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise unittest.SkipTest("no free port below 1024 on 127.0.0.1")


def status(pid, tid):
    fields = {}
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()
    return fields


@unittest.skipUnless(os.geteuid() == 0, "needs root")
class PrivilegeDrop(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gf-priv-")
        os.chmod(self.tmp, 0o755)  # nobody must reach its data directory below
        self.data = os.path.join(self.tmp, "data")
        self.config = os.path.join(self.tmp, "greyflux.toml")
        with open(self.config, "w") as f:
            f.write('[http]\nlisten = []\n')
        self.proc = None

    def tearDown(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def serve(self, port, *sets, prefix=()):
        cmd = [*prefix, BINARY, "serve", "--config", self.config,
               "--set", f"daemon.data_dir={self.data}",
               "--set", f'policy.listen=["127.0.0.1:{port}"]']
        for s in sets:
            cmd += ["--set", s]
        return cmd

    def assert_dropped_everywhere(self, pid, uid, gid):
        tids = os.listdir(f"/proc/{pid}/task")
        self.assertGreater(len(tids), 1)  # the store writer and log flusher are threads too
        for tid in tids:
            st = status(pid, tid)
            self.assertEqual(st["Uid"], [str(uid)] * 4, tid)
            self.assertEqual(st["Gid"], [str(gid)] * 4, tid)
            for cap in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
                self.assertEqual(int(st[cap][0], 16), 0, f"thread {tid} {cap}")
            self.assertEqual(st["NoNewPrivs"], ["1"], tid)
        return status(pid, tids[0])

    def test_root_drops_to_the_user_after_binding_a_low_port(self):
        port = free_low_port()
        self.proc = subprocess.Popen(self.serve(port, "daemon.user=nobody"),
                                     stderr=subprocess.PIPE)
        wait_port(port, self.proc)  # bound; an answer comes only once the daemon serves
        conn = Conn(port=port)
        self.assertTrue(conn.ask(client_address="192.0.2.7").startswith("action=DEFER"))
        conn.close()
        st = self.assert_dropped_everywhere(self.proc.pid, NOBODY.pw_uid, NOBODY.pw_gid)
        self.assertEqual(int(st["CapBnd"][0], 16), 0)  # emptied while still root
        for path in (self.data, os.path.join(self.data, "greyflux.lmdb"),
                     os.path.join(self.data, "greyflux.lmdb", "data.mdb"),
                     os.path.join(self.data, "greyflux.sock")):
            self.assertEqual(os.lstat(path).st_uid, NOBODY.pw_uid, path)
        self.proc.send_signal(signal.SIGHUP)  # reload as nobody: the config is still readable
        conn = Conn(port=port)
        self.assertTrue(conn.ask(client_address="192.0.2.8").startswith("action=DEFER"))
        conn.close()
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=20), 0)
        err = self.proc.stderr.read().decode()
        self.assertIn(f"dropped privileges to user nobody (uid {NOBODY.pw_uid}", err)
        self.assertIn("reloaded", err)

    def test_root_without_a_user_refuses_with_one_line(self):
        port = free_low_port()
        r = subprocess.run(self.serve(port), capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, "greyflux: started as root with no user to drop to: set "
                                   "daemon.user (the package uses \"greyflux\"), or daemon.user"
                                   " = \"root\" to keep root\n")
        self.assertFalse(os.path.exists(self.data))  # refused before it opened anything

    def test_a_user_that_does_not_exist_is_one_line(self):
        r = subprocess.run(self.serve(free_low_port(), "daemon.user=no-such-gf-user"),
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stderr, 'greyflux: daemon.user: no user "no-such-gf-user"\n')

    def test_an_ambient_capability_is_dropped_once_the_port_is_bound(self):
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            self.skipTest("setpriv (util-linux) not installed")
        os.makedirs(self.data)
        os.chown(self.data, NOBODY.pw_uid, NOBODY.pw_gid)
        port = free_low_port()
        # What systemd does for User=greyflux + AmbientCapabilities=CAP_NET_BIND_SERVICE.
        prefix = [setpriv, f"--reuid={NOBODY.pw_uid}", f"--regid={NOBODY.pw_gid}",
                  "--clear-groups", "--inh-caps=+net_bind_service",
                  "--ambient-caps=+net_bind_service", "--bounding-set=-all,+net_bind_service"]
        self.proc = subprocess.Popen(self.serve(port, prefix=prefix), stderr=subprocess.PIPE)
        wait_port(port, self.proc)
        conn = Conn(port=port)
        self.assertTrue(conn.ask(client_address="192.0.2.9").startswith("action=DEFER"))
        conn.close()
        self.assert_dropped_everywhere(self.proc.pid, NOBODY.pw_uid, NOBODY.pw_gid)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=20), 0)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
