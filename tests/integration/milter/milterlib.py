"""Helpers for the milter integration tests: greyflux on free loopback ports with [milter] on,
and the milter wire format for raw clients (the MTA side)."""
import os
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"greyflux exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not ready")


def packet(cmd, payload=b""):
    """One milter packet: 4-byte big-endian length of command + payload, command, payload."""
    return struct.pack(">I", len(payload) + 1) + cmd + payload


def negotiate(version=6, actions=0x1FF, steps=0x1FFFFF):
    return packet(b"O", struct.pack(">III", version, actions, steps))


def connect_cmd(host, addr, port=25):
    return packet(b"C", host.encode() + b"\0" + b"4" + struct.pack(">H", port) + addr.encode() +
                  b"\0")


def strings(*args):
    return b"".join(a.encode() + b"\0" for a in args)


class Client:
    """A raw milter MTA side over TCP: send packets, read reply packets."""

    def __init__(self, port, timeout=20.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """(command byte, payload) of the next reply, or None at EOF."""
        while True:
            if len(self.buf) >= 4:
                n = struct.unpack(">I", self.buf[:4])[0]
                if len(self.buf) >= 4 + n:
                    p = self.buf[4:4 + n]
                    self.buf = self.buf[4 + n:]
                    return p[:1], p[1:]
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return None
            if not chunk:
                return None
            self.buf += chunk

    def closed_by_peer(self, max_replies=16):
        """True when the server closes the connection, after at most `max_replies` replies
        (False when it keeps answering; a read timeout raises)."""
        for _ in range(max_replies + 1):
            if self.reply() is None:
                return True
        return False

    def close(self):
        self.sock.close()


class Greyflux:
    def __init__(self, binary, extra="", greylist="", prefix="gf-milter-"):
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix=prefix)
        self.port = free_port()
        self.unix = os.path.join(self.tmp, "milter.sock")
        self.admin = os.path.join(self.tmp, "admin.sock")
        self.config = os.path.join(self.tmp, "greyflux.toml")
        self.log_path = os.path.join(self.tmp, "greyflux.log")
        with open(self.config, "w") as f:
            f.write(f"""[daemon]
data_dir = "{self.tmp}"
[store]
backend = "memory"
[policy]
listen = ["127.0.0.1:{free_port()}"]
[greylist]
whitelist_clients = []
whitelist_recipients = []
{greylist}
[milter]
listen = ["127.0.0.1:{self.port}", "unix:{self.unix}"]
{extra}
[spamd]
model = "{self.tmp}/mail.model"
[admin]
socket = "{self.admin}"
[http]
listen = []
[akismet]
store_path = "{self.tmp}/akismet.lmdb"
[log]
level = "info"
file = "{self.log_path}"
""")
        self.out = open(os.path.join(self.tmp, "stderr"), "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config, *ROOT],
                                     stdout=self.out, stderr=self.out)
        try:
            wait_port(self.port, self.proc)
        except RuntimeError:
            print(self.tail())
            raise
        return self

    def log_lines(self):
        try:
            with open(self.log_path) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def wait_log(self, needle, count=1, timeout=10.0):
        """Polls the log (flushed every second, at once for warnings) for `count` lines."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            hits = [l for l in self.log_lines() if needle in l]
            if len(hits) >= count:
                return hits
            time.sleep(0.05)
        return [l for l in self.log_lines() if needle in l]

    def admin_command(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(self.admin)
        s.sendall(line.encode() + b"\n")
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        return out.decode()

    def tail(self, n=20):
        return "greyflux log tail:\n" + "\n".join(self.log_lines()[-n:])

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        return self.proc.returncode if self.proc else None

    def cleanup(self, keep=False):
        self.stop()
        self.out.close()
        if keep:
            print(f"files kept in {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
