"""Many idle connections, slow clients and a storm of SIGHUPs, on every front door.

idle: --idle connections (10,000 in `make test-long`) held open at once on EACH listener
      (policy, HTTP, spamd, milter, admin; each listener's max_connections is set above that)
      while one more client per listener is served: its median and worst answer time with the
      idle crowd must stay within --slowdown times the same client's median measured before,
      plus --slack-ms. Every idle connection must still be open afterwards (none refused).
      The test raises its own RLIMIT_NOFILE (the daemon raises its soft limit to the hard one).
slow: a client per door sends a request one byte a second (policy, spamd: idle_timeout /
      spamd.timeout; HTTP: http.request_timeout; milter: milter.timeout; admin socket:
      admin.timeout; all set to --cut-s): each is cut off between
      the timeout and the timeout + 2.5 s after its first byte, while a normal client on the
      same door keeps being answered in time.
hup:  SIGHUP every 100 ms for --hup-seconds while a client on each door (policy, HTTP, spamd,
      milter, admin) sends requests without pause: every request gets its answer (no reset, no
      error reply), the log has no error or warning line and one "reloaded" per SIGHUP; halfway
      the config file is replaced (greylist.action, spamd.required_score) and the answers
      change within 2 s of it and never go back.

Usage: connections_test.py GREYFLUX_BINARY [--phases idle,slow,hup] [--idle N] [--cut-s S]
       [--hup-seconds S]
Duration (2-core machine): idle with 2,000 per listener ~15 s, with 10,000 ~60 s; slow ~10 s;
hup = --hup-seconds + ~3 s."""
import argparse
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from gfdaemon import Conn, Daemon, free_port, request  # noqa: E402

DOORS = ("policy", "http", "spamd", "milter", "admin")
PING = b"PING SPAMC/1.5\r\n\r\n"
HTTP_PING = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n"


def milter_negotiate():
    payload = struct.pack(">III", 6, 0x1FF, 0x1FFFFF)
    return struct.pack(">I", len(payload) + 1) + b"O" + payload


def recv_until(s, done):
    buf = b""
    while not done(buf):
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {buf[:80]!r}")
        buf += chunk
    return buf


class Doors:
    """The daemon with all five listeners, and one served exchange per door."""

    def __init__(self, binary, max_conn, extra_sets=()):
        self.ports = {d: free_port() for d in ("http", "spamd", "milter")}
        self.d = Daemon(binary, sets=["greylist.delay=1h", f"policy.max_connections={max_conn}",
                                      f"http.max_connections={max_conn}",
                                      f"spamd.max_connections={max_conn}",
                                      f"milter.max_connections={max_conn}",
                                      f"admin.max_connections={max_conn}", *extra_sets])
        with open(self.d.config) as f:
            text = f.read().replace("[http]\nlisten=[]\n", "")
        with open(self.d.config, "w") as f:
            f.write(text + f"""
[http]
listen = ["127.0.0.1:{self.ports['http']}"]
[spamd]
listen = ["127.0.0.1:{self.ports['spamd']}"]
model = "{self.d.tmp}/mail.model"
[milter]
listen = ["127.0.0.1:{self.ports['milter']}"]
""")
        self.ports["policy"] = self.d.port

    def start(self):
        """Starts the daemon and waits (bounded) until every listener accepts."""
        self.d.start()
        for door in DOORS:
            deadline = time.time() + 10
            while True:
                try:
                    self.connect(door, timeout=1).close()
                    break
                except OSError:
                    assert time.time() < deadline, f"{door} listener not ready"
                    time.sleep(0.02)
        return self

    def connect(self, door, timeout=10):
        if door == "admin":
            # A unix socket whose backlog is full refuses a connect with a timeout set (that is,
            # non-blocking) with EAGAIN instead of waiting: wait for it here, bounded.
            deadline = time.time() + timeout
            while True:
                s = socket.socket(socket.AF_UNIX)
                s.settimeout(timeout)
                try:
                    s.connect(self.d.admin)
                    return s
                except BlockingIOError:
                    s.close()
                    if time.time() >= deadline:
                        raise
                    time.sleep(0.001)
        return socket.create_connection(("127.0.0.1", self.ports[door]), timeout=timeout)

    def exchange(self, door, n=0):
        """One request on a fresh connection (spamd, admin, milter: one per connection)."""
        with self.connect(door) as s:
            if door == "policy":
                s.sendall(request(recipient=f"served{n}@example.org"))
                reply = recv_until(s, lambda b: b"\n\n" in b)
                assert reply.startswith(b"action="), reply
            elif door == "http":
                s.sendall(HTTP_PING)
                reply = recv_until(s, lambda b: b"\r\n\r\n" in b)
                assert reply.startswith(b"HTTP/1.1 200"), reply
            elif door == "spamd":
                s.sendall(PING)
                s.shutdown(socket.SHUT_WR)
                reply = recv_until(s, lambda b: b"PONG" in b)
            elif door == "milter":
                s.sendall(milter_negotiate())
                reply = recv_until(s, lambda b: len(b) >= 5 and b[4:5] == b"O")
            else:
                s.sendall(b"stats\n")
                reply = recv_until(s, lambda b: b"requests\t" in b)
        return reply


def timed(fn, count):
    times = []
    for i in range(count):
        t = time.perf_counter()
        fn(i)
        times.append((time.perf_counter() - t) * 1000)
    return times


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
            return want
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            return hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    return max(soft, want)


def proc_status(pid):
    """The daemon's resident set (KiB) and open descriptors, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def ready_nofile(doors):
    """The open-files limit the daemon's ready line reports."""
    assert doors.d.wait_log("ready:", timeout=5), doors.d.log_text()
    line = next(x for x in doors.d.log_text().splitlines() if "ready:" in x)
    return int(line.rsplit("open files limit ", 1)[1].split()[0])


def steady_fds(pid, timeout=5):
    """The daemon's fd count once it stays the same for 100 ms (served clients' sockets shut)."""
    last, deadline = proc_status(pid)[1], time.time() + timeout
    while time.time() < deadline:
        time.sleep(0.1)
        now = proc_status(pid)[1]
        if now == last:
            break
        last = now
    return last


def open_idle(doors, door, count, pid, fds_before):
    """Opens `count` idle connections on one door; returns them, the connect() times (ms) and
    how long until the daemon held all of them (its fd count grown by `count`)."""
    socks, connect_ms = [], []
    t0 = time.perf_counter()
    for _ in range(count):
        t = time.perf_counter()
        s = doors.connect(door, timeout=30)
        connect_ms.append((time.perf_counter() - t) * 1000)
        s.setblocking(False)
        socks.append((door, s))
    deadline = time.time() + 30
    while proc_status(pid)[1] < fds_before + count:
        assert time.time() < deadline, \
            f"{door}: the daemon holds {proc_status(pid)[1] - fds_before} of {count} connections"
        time.sleep(0.01)
    return socks, connect_ms, time.perf_counter() - t0


def idle_round(args, doors, before, pid, crowd):
    """Opens --idle connections on each door of `crowd`, checks that the served clients keep their pace
    and that no idle one is closed, then closes them all; returns the peak and settled
    (RSS KiB, fds)."""
    per_door, idle = args.idle, []
    try:
        t0 = time.time()
        for door in crowd:
            socks, connect_ms, held_s = open_idle(doors, door, per_door, pid, steady_fds(pid))
            idle += socks
            connect_ms.sort()
            print(f"{door:6s}: {per_door} idle accepted in {held_s:.2f} s, RSS now "
                  f"{proc_status(pid)[0] / 1024:.1f} MiB (connect median "
                  f"{statistics.median(connect_ms):.3f} ms, p99 "
                  f"{connect_ms[int(len(connect_ms) * 0.99)]:.3f} ms, max {connect_ms[-1]:.1f} ms)")
        opened_s = time.time() - t0
        stats = doors.d.stats()
        assert "policy" not in crowd or stats["connections.active"] >= per_door, stats
        during = {door: timed(lambda i, door=door: doors.exchange(door, 100 + i), 30)
                  for door in crowd}
        peak = proc_status(pid)
        closed = count_closed(idle)
        failed = []
        for door in crowd:
            b, d = statistics.median(before[door]), during[door]
            limit = args.slowdown * b + args.slack_ms
            ok = statistics.median(d) <= limit and max(d) <= limit + args.slack_ms * 4
            print(f"{door:6s}: {per_door} idle; served median {b:6.2f} ms before, "
                  f"{statistics.median(d):6.2f} ms (max {max(d):6.2f}) with them "
                  f"(limit {limit:.1f} ms){'' if ok else '  FAIL'}")
            if not ok:
                failed.append(door)
        print(f"{len(idle)} idle connections opened in {opened_s:.1f} s; {closed} closed by the "
              f"daemon; connections.refused {stats['connections.refused']}")
        assert closed == 0, f"{closed} idle connections were closed"
        assert not failed, f"slow answers with idle connections open: {failed}"
    finally:
        for _, s in idle:
            s.close()
    return peak, settle(doors, pid)


def idle_phase(args):
    """Two rounds of idle crowds: each shows the served pace and what the crowd costs, every
    descriptor comes back after each, and after the last one the RSS comes back near where it
    was before (within a quarter of the crowd's growth or 8 MiB, in --rss-wait-s).
    All doors get their crowd at once when RLIMIT_NOFILE allows it (--idle x 5 + 1000 for the
    daemon, and as many here); without CAP_SYS_RESOURCE the hard limit may not, and then the
    doors take their turns in groups that fit (said in the output)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    got = raise_nofile(max(args.idle * len(DOORS) + 1000, hard))
    per_group = min(len(DOORS), (got - 1000) // args.idle)
    if per_group < 1:
        print(f"SKIP: RLIMIT_NOFILE cannot go to {args.idle + 1000} (hard limit {got})")
        return 77
    groups = [DOORS[i:i + per_group] for i in range(0, len(DOORS), per_group)]
    if len(groups) > 1:
        print(f"open files limit {got} < {args.idle * len(DOORS) + 1000}: the crowds come in "
              f"turns: {' / '.join('+'.join(g) for g in groups)}")
    doors = Doors(args.binary, args.idle + 100)
    doors.start()
    pid = doors.d.proc.pid
    try:
        nofile = ready_nofile(doors)
        assert nofile >= per_group * args.idle + 1000, f"the daemon's open files limit {nofile}"
        before = {door: timed(lambda i, door=door: doors.exchange(door, i), 30) for door in DOORS}
        rss0, fds0 = proc_status(pid)[0], steady_fds(pid)
        rounds = [[idle_round(args, doors, before, pid, g) for g in groups] for _ in range(2)]
        for n, results in enumerate(rounds, 1):
            for g, ((rss_peak, fds_peak), (rss1, fds1)) in zip(groups, results):
                print(f"round {n}: daemon RSS {rss0 / 1024:.1f} MiB before, "
                      f"{rss_peak / 1024:.1f} MiB with {args.idle * len(g)} idle on "
                      f"{'+'.join(g)}, {rss1 / 1024:.1f} MiB after they closed; fds {fds0} / "
                      f"{fds_peak} / {fds1}; open files limit {nofile}")
                assert fds1 <= fds0 + 2, f"fds did not return: {fds0} before, {fds1} after"
        # What the crowds held goes back to the system: jemalloc's background thread purges
        # freed pages on its decay schedule (10 s) even while the daemon is idle.
        grown_kib = max(peak[0] for peak, _ in rounds[0] + rounds[1]) - rss0
        rss_ok = rss0 + max(0.25 * grown_kib, 8192)
        t_closed, rss_end = time.time(), proc_status(pid)[0]
        while rss_end > rss_ok and time.time() < t_closed + args.rss_wait_s:
            time.sleep(0.5)
            rss_end = proc_status(pid)[0]
        print(f"RSS {rss_end / 1024:.1f} MiB {time.time() - t_closed:.1f} s after the last crowd "
              f"closed (before them {rss0 / 1024:.1f} MiB, bound {rss_ok / 1024:.1f} MiB)")
        assert rss_end <= rss_ok, f"RSS did not come back: {rss_end} KiB > {rss_ok:.0f} KiB"
        assert doors.exchange("policy", 999).startswith(b"action=")
        assert doors.d.stop() == 0
    finally:
        doors.d.stop(signal.SIGKILL)
        shutil.rmtree(doors.d.tmp, ignore_errors=True)
    return 0


def settle(doors, pid, timeout=10):
    """Waits (bounded) until the daemon closed its side of the idle connections (no policy
    connection open, its fd count steady); returns its (RSS KiB, fds) then."""
    deadline = time.time() + timeout
    while doors.d.stats()["connections.active"] > 0 and time.time() < deadline:
        time.sleep(0.05)
    fds = steady_fds(pid)
    return proc_status(pid)[0], fds


def count_closed(socks):
    sel = selectors.DefaultSelector()
    for door, s in socks:
        sel.register(s, selectors.EVENT_READ, door)
    closed = 0
    for key, _ in sel.select(timeout=0.5):
        try:
            if key.fileobj.recv(1) == b"":
                closed += 1
        except (BlockingIOError, InterruptedError):
            pass
        except OSError:
            closed += 1
    sel.close()
    return closed


def count_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Trickle(threading.Thread):
    """Sends `data` one byte a second; records when the daemon cut the connection off."""

    def __init__(self, doors, door, data, cut_s):
        super().__init__(daemon=True)
        self.s = doors.connect(door, timeout=1)
        self.door, self.data = door, data[:cut_s + 8]  # bounded: a client never cut stops
        self.first = self.cut = None
        self.sent = 0

    def run(self):
        for i in range(len(self.data)):
            try:
                self.s.sendall(self.data[i:i + 1])
                if self.first is None:
                    self.first = time.monotonic()
                self.sent += 1
            except OSError:
                self.cut = time.monotonic()
                return
            end = time.monotonic() + 1
            while time.monotonic() < end:
                try:
                    if self.s.recv(4096) == b"":
                        self.cut = time.monotonic()
                        return
                except socket.timeout:
                    pass
                except OSError:
                    self.cut = time.monotonic()
                    return


def slow_phase(args):
    cut = args.cut_s
    doors = Doors(args.binary, 1000, extra_sets=[f"policy.idle_timeout={cut}s",
                                                 f"spamd.timeout={cut}s",
                                                 f"http.request_timeout={cut}s",
                                                 f"milter.timeout={cut}s",
                                                 f"admin.timeout={cut}s"])
    doors.start()
    try:
        slow = {"policy": Trickle(doors, "policy", request(recipient="slow@example.org") * 10, cut),
                "spamd": Trickle(doors, "spamd", b"CHECK SPAMC/1.5\r\nContent-length: 9999\r\n\r\n"
                                 + b"x" * 200, cut),
                "http": Trickle(doors, "http", b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\n"
                                b"Content-Length: 9999\r\n\r\n" + b"x" * 200, cut),
                # a milter packet announced as 200 bytes; an admin command line never ended
                "milter": Trickle(doors, "milter", struct.pack(">I", 200) + b"O" + b"\0" * 199,
                                  cut),
                "admin": Trickle(doors, "admin", b"whitelist list" + b" x" * 100, cut)}
        for t in slow.values():
            t.start()
        served = {door: [] for door in slow}
        while any(t.is_alive() for t in slow.values()):
            for door in slow:
                served[door] += timed(lambda i, door=door: doors.exchange(door, i), 1)
            time.sleep(0.05)
        failed = []
        for door, t in slow.items():
            held = (t.cut - t.first) if t.cut else None
            ok = held is not None and cut - 0.5 <= held <= cut + 2.5
            worst = max(served[door])
            ok = ok and worst <= args.slack_ms * 4
            print(f"{door:6s}: one byte a second, cut off {held:.1f} s after its first byte "
                  f"({t.sent} bytes; timeout {cut} s); {len(served[door])} other requests "
                  f"served meanwhile, worst {worst:.1f} ms{'' if ok else '  FAIL'}")
            if not ok:
                failed.append(door)
        assert not failed, f"slow clients not cut off in time, or others held up: {failed}"
        assert doors.d.stop() == 0
    finally:
        doors.d.stop(signal.SIGKILL)
        shutil.rmtree(doors.d.tmp, ignore_errors=True)
    return 0


class Loader(threading.Thread):
    """Requests without pause on one door; counts answers and failures. The policy loader also
    keeps (time, action word) of every answer, to see when a config change took effect."""

    def __init__(self, doors, door, stop):
        super().__init__(daemon=True)
        self.doors, self.door, self.stop = doors, door, stop
        self.answered, self.errors, self.actions = 0, [], []

    def run(self):
        conn = Conn(self.doors.ports["policy"], timeout=10) if self.door == "policy" else None
        while not self.stop.is_set():
            try:
                if conn:
                    reply = conn.ask(recipient=f"hup{self.answered}@example.org")
                    assert reply.startswith("action=DEFER"), reply
                    self.actions.append((time.monotonic(), reply.split()[0]))
                else:
                    self.doors.exchange(self.door, self.answered)
                self.answered += 1
            except (OSError, AssertionError, ConnectionError) as e:
                self.errors.append(repr(e))
                if conn:
                    conn = Conn(self.doors.ports["policy"], timeout=10)


def spamd_required(doors):
    """The required score in a spamd CHECK answer (spamd.required_score in force)."""
    body = b"Subject: hello\r\n\r\nhello\r\n"
    with doors.connect("spamd") as s:
        s.sendall(b"CHECK SPAMC/1.5\r\nContent-length: %d\r\n\r\n" % len(body) + body)
        s.shutdown(socket.SHUT_WR)
        reply = recv_until(s, lambda b: b"\r\n\r\n" in b)
    return reply.split(b" / ", 1)[1].split(b"\r\n", 1)[0].decode()


def change_config(doors, text):
    """Writes the new config beside the old one and renames it over it (what a careful admin or
    a config manager does: a reload never reads a half-written file)."""
    tmp = doors.d.config + ".new"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, doors.d.config)


def hup_phase(args):
    """SIGHUP every 100 ms for --hup-seconds while a client on every door sends without pause;
    halfway, the config changes (greylist.action DEFER_IF_PERMIT -> DEFER, spamd.required_score
    5.0 -> 4.0, written aside and renamed into place)."""
    doors = Doors(args.binary, 1000)
    doors.start()
    stop = threading.Event()
    loaders = [Loader(doors, door, stop) for door in DOORS]
    try:
        assert spamd_required(doors) == "5.0"
        with open(doors.d.config) as f:
            changed = f.read() + "\n[greylist]\naction = \"DEFER\"\n"
        changed = changed.replace("[spamd]\n", "[spamd]\nrequired_score = \"4.0\"\n", 1)
        for t in loaders:
            t.start()
        hups, start = 0, time.monotonic()
        end, changed_at = start + args.hup_seconds, None
        while time.monotonic() < end:
            doors.d.proc.send_signal(signal.SIGHUP)
            hups += 1
            if changed_at is None and time.monotonic() >= start + args.hup_seconds / 2:
                change_config(doors, changed)
                changed_at = time.monotonic()
            time.sleep(0.1)
        stop.set()
        for t in loaders:
            t.join()
        doors.d.wait_log("reloaded", count=hups, timeout=10)
        log = doors.d.log_text().splitlines()
        reloads = sum("reloaded" in line for line in log)
        bad = [line for line in log if " E " in line or " W " in line or " C " in line]
        errors = [e for t in loaders for e in t.errors]
        actions = loaders[0].actions
        first_new = next((t for t, a in actions if a == "action=DEFER"), None)
        old_after = sum(1 for t, a in actions if a != "action=DEFER" and first_new and t > first_new)
        took = f"{(first_new - changed_at) * 1000:.0f} ms" if first_new else "never"
        required = spamd_required(doors)
        print(f"{hups} SIGHUPs in {args.hup_seconds:g} s, {reloads} reloads logged; answered: "
              + ", ".join(f"{t.door} {t.answered}" for t in loaders)
              + f"; {len(errors)} failed requests, {len(bad)} warning/error log lines; the "
              f"config change answered {took} after the rename ({old_after} old answers after "
              f"the first new one); spamd required score now {required}")
        assert not errors, errors[:5]
        assert not bad, bad[:5]
        assert all(t.answered > 0 for t in loaders), [(t.door, t.answered) for t in loaders]
        assert reloads == hups, f"{reloads} reloads for {hups} SIGHUPs"
        # The first reload after the rename (at most 100 ms later, plus the time a loaded machine
        # takes to get to it) brings the new action; after it, never the old one again.
        assert first_new is not None and first_new - changed_at <= 2.0, took
        assert old_after == 0, f"{old_after} answers with the old action after the new one"
        assert actions[-1][1] == "action=DEFER", actions[-1]
        assert required == "4.0", required
        assert doors.d.stop() == 0
    finally:
        stop.set()
        doors.d.stop(signal.SIGKILL)
        shutil.rmtree(doors.d.tmp, ignore_errors=True)
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--phases", default="idle,slow,hup")
    p.add_argument("--idle", type=int, default=2000)
    p.add_argument("--slowdown", type=float, default=3.0)
    p.add_argument("--slack-ms", type=float, default=25.0)
    p.add_argument("--rss-wait-s", type=float, default=30.0)
    p.add_argument("--cut-s", type=int, default=3)
    p.add_argument("--hup-seconds", type=float, default=5.0)
    args = p.parse_args()
    rc = 0
    for phase in args.phases.split(","):
        r = {"idle": idle_phase, "slow": slow_phase, "hup": hup_phase}[phase](args)
        rc = rc or r
    return rc


if __name__ == "__main__":
    sys.exit(main())
