"""Helpers to run a real greyflux daemon on loopback for tests and benchmarks."""
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []


class ClientThreads:
    """Client threads that run until the `with` block ends: `stop` ends their loops, `lock`
    guards what they record, `errors` collects what went wrong. A subclass fills `threads`."""

    def __init__(self):
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors = []
        self.threads = []

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=10)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask_until(conn, accept, timeout=10, **attrs):
    """Asks again (a real retry) until accept(reply) holds or `timeout` passes; returns the last
    reply. The bounded wait for a greylist delay to run out on the daemon's clock."""
    deadline = time.time() + timeout
    while True:
        reply = conn.ask(**attrs)
        if accept(reply) or time.time() >= deadline:
            return reply
        time.sleep(0.05)


def request(**attrs):
    d = dict(request="smtpd_access_policy", protocol_state="RCPT", protocol_name="ESMTP",
             client_address="192.0.2.1", client_name="unknown", helo_name="client.example",
             sender="alice@sender.example", recipient="bob@example.org", instance="i1",
             etrn_domain="")
    d.update(attrs)
    return "".join(f"{k}={v}\n" for k, v in d.items()).encode() + b"\n"


class Conn:
    def __init__(self, port=None, path=None, timeout=5):
        if path:
            self.s = socket.socket(socket.AF_UNIX)
            self.s.settimeout(timeout)
            self.s.connect(path)
        else:
            self.s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def ask(self, **attrs):
        self.s.sendall(request(**attrs))
        return self.reply()

    def reply(self):
        while b"\n\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n\n", 1)
        return line.decode()

    def closed_by_peer(self, timeout=5):
        """True if the server closes this connection within timeout."""
        self.s.settimeout(timeout)
        try:
            while True:
                data = self.s.recv(65536)
                if not data:
                    return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class Daemon:
    def __init__(self, binary, extra="", backend="lmdb", tmp=None, sets=()):
        self.binary = binary
        self.sets = [a for kv in sets for a in ("--set", kv)]
        self.tmp = tmp or tempfile.mkdtemp(prefix="gf-daemon-")
        self.port = free_port()
        self.config = os.path.join(self.tmp, "greyflux.toml")
        self.log = os.path.join(self.tmp, "greyflux.log")
        self.admin = os.path.join(self.tmp, "admin.sock")
        self.unix = os.path.join(self.tmp, "policy.sock")
        self.write_config(extra, backend)
        self.proc = None

    def write_config(self, extra="", backend="lmdb"):
        with open(self.config, "w") as f:
            f.write(f"""
[daemon]
data_dir = "{self.tmp}"
[store]
backend = "{backend}"
path = "{self.tmp}/db"
commit_interval = "20ms"
[policy]
listen = ["127.0.0.1:{self.port}", "unix:{self.unix}"]
[http]
listen=[]
[akismet]
store_path = "{self.tmp}/akismet"
[admin]
socket = "{self.admin}"
[log]
level = "info"
file = "{self.log}"
""" + extra)

    def start(self, *args):
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config, *ROOT, *self.sets, *args],
                                     stderr=subprocess.PIPE)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("greyflux exited: " + self.proc.stderr.read().decode())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.02)
                continue
            # The policy port opens first; the ready line follows the last door (HTTP, spamd...).
            if not self.logs_info() or self.wait_log(" ready: ", timeout=deadline - time.time()):
                return self
        raise RuntimeError("greyflux did not become ready")

    def logs_info(self):
        levels = [a.split("=", 1)[1] for a in self.sets if a.startswith("log.level=")]
        return not levels or levels[-1] in ("trace", "debug", "info")

    def cli(self, *args):
        return subprocess.run([self.binary, *args, "--config", self.config],
                              capture_output=True, text=True, timeout=30)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode if self.proc else None

    def stats(self):
        """`greyflux stats` as a dict of counter name -> number."""
        out = self.cli("stats")
        if out.returncode != 0:
            raise RuntimeError("greyflux stats failed: " + out.stderr)
        values = {}
        for line in out.stdout.splitlines():
            name, _, value = line.partition("\t")
            try:
                values[name] = float(value) if "." in value else int(value)
            except ValueError:
                values[name] = value
        return values

    def wait_stats(self, cond, timeout=10):
        """Polls `greyflux stats` until cond(stats) holds; returns the last stats (check them)."""
        deadline = time.time() + timeout
        while True:
            values = self.stats()
            if cond(values) or time.time() >= deadline:
                return values
            time.sleep(0.05)

    def log_text(self):
        try:
            with open(self.log, encoding="utf-8") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, needle, timeout=5, count=1):
        """Waits (bounded) until the log holds `needle` at least `count` times."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.log_text().count(needle) >= count:
                return True
            time.sleep(0.05)
        return False
