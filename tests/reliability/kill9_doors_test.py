"""kill -9 under load for the other front doors: acknowledged writes a restart no longer has.

--door akismet  Akismet submit-spam over keep-alive HTTP; each report is a training-log record in
                the comment API's LMDB store (store.commit_interval). After the kill `mdb_dump`
                reads the store offline (it must open clean) and each report's marker is looked up.
--door spamd    spamd TELL (spamc -L), one connection per message; each TELL goes to the TELL
                journal (spamd.journal, an LMDB store with the same group commit) and the model
                file is saved every spamd.save_interval (--save-interval-ms, default 60 s as
                shipped, so no kill lands after a save: the journal alone keeps the TELLs).
                TELLs are counted, not named: the restarted daemon's log line gives the model's
                learned total after the journal's replay, and the newest acknowledged TELLs
                beyond it are the lost ones. --no-journal measures spamd.journal = "" (the model
                file alone; then the bound is the save interval).
--door admin    `whitelist add client NAME` on the admin socket, one connection per command (the
                reply comes after the greylist store's flush). The restarted daemon lists them.
Bound: with the write journal (store.journal, as shipped) --margin-ms (default 0: no acknowledged
write lost); with --no-write-journal the door's commit interval plus --margin-ms (default 400: the
commit in flight when the kill lands).
The machinery (hogs, load, kill, loss window) is kill9_common.py; the greylist door is
kill9_contention_test.py.

Usage: kill9_doors_test.py GREYFLUX_BINARY --door akismet|spamd|admin [--runs N] [--idle-runs N]
       [--seconds S] [--connections C] [--hogs H] [--interval-ms MS] [--margin-ms MS]
       [--no-write-journal]"""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kill9_common  # noqa: E402
from gfdaemon import free_port  # noqa: E402

THANKS = "Thanks for making the web a better place."


def connect_retry(make, timeout=10):
    """The daemon is ready when its policy port is; the other doors open within moments."""
    deadline = time.time() + timeout
    while True:
        try:
            return make()
        except OSError:
            if time.time() >= deadline:
                raise
            time.sleep(0.02)


def restart_and(d, ask):
    """Starts the daemon on the killed store, returns ask(d), stops it."""
    d.start()
    try:
        return ask(d)
    finally:
        d.stop()


class AkismetDoor:
    name = "akismet submit-spam"

    def __init__(self, args):
        self.http_port = free_port()
        self.sets = [f'http.listen=["127.0.0.1:{self.http_port}"]']
        self.bound_ms = kill9_common.bound_ms(args)
        self.key = None

    def lmdb_dir(self, d):
        return d.tmp + "/akismet"

    def prepare(self, d):
        r = d.cli("keys", "add", "--blog", "https://blog.example")
        assert r.returncode == 0, r.stderr
        self.key = r.stdout.strip()

    def connect(self, d, i):
        def make():
            c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=2)
            c.connect()
            return c
        return connect_retry(make)

    def write(self, conn, run, i, n):
        marker = f"m{run}c{i}n{n}x"
        body = urllib.parse.urlencode({
            "api_key": self.key, "blog": "https://blog.example", "user_ip": "192.0.2.10",
            "comment_type": "comment", "comment_author": "Kill Nine",
            "comment_content": f"cheap pills {marker} at http://pills.example/ buy now"})
        try:
            conn.request("POST", "/1.1/submit-spam", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            r = conn.getresponse()
            text = r.read().decode()
        except http.client.HTTPException as e:
            raise OSError(str(e))
        return marker if r.status == 200 and text == THANKS else None

    def stored(self, d, run, acked):
        # A restart replays the write journal before serving; `keys list` opens the store the
        # same way (offline), then mdb_dump reads it.
        r = d.cli("keys", "list")
        if r.returncode != 0:
            raise AssertionError(f"the store did not open after kill -9: {r.stderr.strip()}")
        r = subprocess.run(["mdb_dump", "-p", self.lmdb_dir(d)], capture_output=True,
                           text=True, errors="replace", timeout=60)
        if r.returncode != 0:
            raise AssertionError(f"the store did not open after kill -9: {r.stderr.strip()}")
        return set(re.findall(rf"m{run}c\d+n\d+x", r.stdout))

    def after_last_kill(self, d):
        conn = self.connect(d, 0)
        assert self.write(conn, 999, 0, 0) is not None


class SpamdDoor:
    name = "spamd TELL"
    LISTENING = re.compile(r"spamd: listening on .*\((\d+) spam, (\d+) ham learned\)")

    def __init__(self, args):
        self.spamd_port = free_port()
        self.bound_ms = kill9_common.bound_ms(
            args, args.save_interval_ms if args.no_journal else None)
        self.sets = [f'spamd.listen=["127.0.0.1:{self.spamd_port}"]', "spamd.allow_tell=true",
                     f"spamd.save_interval={args.save_interval_ms}ms"]
        if args.no_journal:
            self.sets.append('spamd.journal=""')
        else:  # its LMDB transactions are counted like the other doors'
            self.lmdb_dir = self.journal_dir
        self.base = 0
        self.starts = 0  # start-up lines of the daemon's log seen so far
        # A TELL in flight when the kill lands may have been learned and journaled with its
        # answer not yet sent: kept though never acknowledged (one per connection at most).
        self.in_flight = args.connections

    def journal_dir(self, d):
        """The TELL journal's LMDB directory, once the daemon has opened it (bounded wait: the
        policy port, which says the daemon is up, may open first)."""
        path = os.path.join(d.tmp, "greyflux-mail.journal")
        deadline = time.time() + 10
        while not os.path.exists(os.path.join(path, "data.mdb")) and time.time() < deadline:
            time.sleep(0.02)
        return path

    def learned(self, d):
        """The model's learned total from this start's log line (bounded wait for it)."""
        deadline = time.time() + 10
        while True:
            found = self.LISTENING.findall(d.log_text())
            if len(found) > self.starts or time.time() >= deadline:
                break
            time.sleep(0.02)
        assert len(found) > self.starts, ("spamd did not log its start; daemon "
                                          + ("exited" if d.proc.poll() is not None else "running")
                                          + ", log:\n" + "\n".join(d.log_text().splitlines()[-6:]))
        self.starts = len(found)
        return sum(int(x) for x in found[-1])

    def before_load(self, d):
        self.base = self.learned(d)

    def connect(self, d, i):
        connect_retry(lambda: socket.create_connection(("127.0.0.1", self.spamd_port),
                                                       timeout=2).close())
        return None

    def write(self, _, run, i, n):
        cls = "spam" if n % 2 == 0 else "ham"
        words = " ".join(f"w{run}x{i}x{n}x{k}" for k in range(20))
        msg = (f"From: a{n}@sender.example\r\nTo: bob@example.org\r\nSubject: note {run} {i} {n}"
               f"\r\nMessage-ID: <{run}.{i}.{n}@sender.example>\r\n\r\n{words}\r\n").encode()
        req = (f"TELL SPAMC/1.5\r\nMessage-class: {cls}\r\nSet: local\r\n"
               f"Content-length: {len(msg)}\r\n\r\n").encode() + msg
        with socket.create_connection(("127.0.0.1", self.spamd_port), timeout=2) as s:
            s.sendall(req)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while b"\r\n\r\n" not in reply:
                chunk = s.recv(4096)
                if not chunk:
                    break
                reply += chunk
        return (run, i, n) if b"DidSet: local" in reply else None

    def stored(self, d, run, acked):
        after = restart_and(d, self.learned)
        kept = after - self.base
        assert 0 <= kept <= len(acked) + self.in_flight, (
            f"model total {after}, base {self.base}, {len(acked)} acknowledged TELLs "
            f"(+ at most {self.in_flight} in flight)")
        return set(acked[:kept])  # the store keeps a prefix of the learning order

    def after_last_kill(self, d):
        self.learned(d)
        assert self.write(None, 999, 0, 0) is not None


class AdminDoor:
    name = "admin whitelist add"
    sets = ()

    def __init__(self, args):
        self.bound_ms = kill9_common.bound_ms(args)

    def lmdb_dir(self, d):
        return d.tmp + "/db"

    def ask(self, d, line, retry=False):
        def make():
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            try:
                s.connect(d.admin)
            except OSError:
                s.close()
                raise
            return s
        with (connect_retry(make) if retry else make()) as s:
            s.sendall(line.encode() + b"\n")
            out = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out.decode()
                out += chunk

    def connect(self, d, i):
        self.ask(d, "stats", retry=True)  # the admin socket is open
        return d

    def write(self, d, run, i, n):
        entry = f"r{run}c{i}n{n}.kill9.example"
        reply = self.ask(d, f"whitelist add client {entry}")
        return entry if reply.startswith("ok\n") else None

    def stored(self, d, run, acked):
        listing = restart_and(d, lambda d: self.ask(d, "whitelist list", retry=True))
        assert listing.startswith("ok\n"), listing
        return set(re.findall(rf"r{run}c\d+n\d+\.kill9\.example", listing))

    def after_last_kill(self, d):
        self.connect(d, 0)
        assert self.write(d, 999, 0, 0) is not None


DOORS = {"akismet": AkismetDoor, "spamd": SpamdDoor, "admin": AdminDoor}

if __name__ == "__main__":
    args = kill9_common.arguments(
        __doc__.splitlines()[0],
        extra=lambda p: (p.add_argument("--door", choices=sorted(DOORS), required=True),
                         p.add_argument("--save-interval-ms", type=int, default=60000),
                         p.add_argument("--no-journal", action="store_true")))
    sys.exit(kill9_common.main(DOORS[args.door](args), args))
