"""A private Debian redis-server on a free loopback port for the integration tests: started
and waited for (PING), stopped or killed by PID, restartable on the same port."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "akismet"))
sys.path.insert(0, os.path.join(HERE, "..", "..", "daemon"))
from gfdaemon import ClientThreads, free_port  # noqa: E402,F401


def check(cond, what):
    """One assertion of a test script: FAIL ends the script, ok is printed."""
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok:", what)


def use_redis(daemon, url):
    """Points a gfdaemon.Daemon's config file at `url` (the CLI reads the file, not --set)."""
    with open(daemon.config, encoding="utf-8") as f:
        text = f.read()
    text = text.replace('backend = "redis"\n', f'backend = "redis"\nredis_url = "{url}"\n', 1)
    with open(daemon.config, "w", encoding="utf-8") as f:
        f.write(text)
    return daemon


class RedisServer:
    def __init__(self):
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.access(self.binary, os.X_OK):
            raise SystemExit("redis-server not found: install the test dependencies "
                             "(scripts/deps.sh test)")
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="gf-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--logfile", self.dir + "/redis.log"])
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.ping():
                return self
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited; see " + self.dir + "/redis.log")
            time.sleep(0.01)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=10)

    def kill(self):
        self.stop(signal.SIGKILL)
