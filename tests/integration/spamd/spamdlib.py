"""Helpers for the spamd-protocol integration tests: free ports, starting greyflux and Debian's
spamd on loopback, raw protocol exchanges."""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import zlib

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []

GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
SPAM_MAIL = ("From: promo@lottery.example\r\nTo: you@example.com\r\nSubject: test spam\r\n"
             "Message-ID: <gtube@lottery.example>\r\n\r\n"
             "This is the GTUBE, the Generic Test for Unsolicited Bulk Email\r\n\r\n"
             + GTUBE + "\r\n")
HAM_MAIL = ("From: carol@example.org\r\nTo: dave@example.org\r\nSubject: lunch\r\n"
            "Message-ID: <lunch-1@example.org>\r\n\r\n"
            "Hi Dave, lunch at noon on Thursday? Carol\r\n")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exchange(port, data, half_close=True, timeout=20.0, path=None):
    """Sends raw bytes, optionally half-closes, returns everything read until EOF."""
    if path:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
    else:
        s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(timeout)
    try:
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (a limit) and stopped reading
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def request(method, message=b"", headers=(), version="1.5", content_length=True, compress=False):
    if isinstance(message, str):
        message = message.encode()
    body = zlib.compress(message) if compress else message
    out = f"{method} SPAMC/{version}\r\n".encode()
    if method in ("PING", "SKIP"):
        return out + b"\r\n" if float(version) >= 1.5 else out
    if float(version) <= 1.0:
        return out + body
    if content_length:
        out += f"Content-length: {len(body)}\r\n".encode()
    if compress:
        out += b"Compress: zlib\r\n"
    for h in headers:
        out += h.encode() + b"\r\n"
    return out + b"\r\n" + body


def wait_port(port, proc, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"port {port} not ready")


class Greyflux:
    def __init__(self, binary, extra="", http=False):
        self.binary = binary
        self.tmp = tempfile.mkdtemp(prefix="gf-spamd-")
        self.port = free_port()
        self.unix = os.path.join(self.tmp, "spamd.sock")
        self.model = os.path.join(self.tmp, "mail.model")
        self.config = os.path.join(self.tmp, "greyflux.toml")
        self.http_port = free_port() if http else 0
        with open(self.config, "w") as f:
            f.write(f"""[daemon]
data_dir = "{self.tmp}"
[store]
backend = "memory"
[policy]
listen = ["127.0.0.1:{free_port()}"]
[spamd]
listen = ["127.0.0.1:{self.port}", "unix:{self.unix}"]
model = "{self.model}"
{extra}
[admin]
socket = "{self.tmp}/admin.sock"
[http]
listen = [{f'"127.0.0.1:{self.http_port}"' if self.http_port else ""}]
[akismet]
store_path = "{self.tmp}/akismet.lmdb"
[log]
level = "info"
""")
        self.log = open(os.path.join(self.tmp, "log"), "w")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([self.binary, "serve", "--config", self.config, *ROOT],
                                     stdout=self.log, stderr=self.log)
        try:
            wait_port(self.port, self.proc)
        except RuntimeError:
            self.log.flush()
            with open(os.path.join(self.tmp, "log")) as f:
                print("greyflux log tail:\n" + "".join(f.readlines()[-5:]))
            raise
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        self.stop()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


class Spamd:
    """Debian's spamd with local tests only, its own home and Bayes files, TELL allowed."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="sa-spamd-")
        os.chmod(self.tmp, 0o777)
        self.port = free_port()
        self.proc = None

    @staticmethod
    def binary():
        """spamd's path: on PATH, or where Debian installs it (/usr/sbin is not on every PATH)."""
        found = shutil.which("spamd")
        if found:
            return found
        for d in ("/usr/sbin", "/usr/local/sbin", "/sbin"):
            if os.access(os.path.join(d, "spamd"), os.X_OK):
                return os.path.join(d, "spamd")
        return None

    @staticmethod
    def available():
        return Spamd.binary() is not None

    def start(self, extra_cf=()):
        args = [Spamd.binary(), f"--listen=127.0.0.1:{self.port}", "-L", "-x", "--allow-tell",
                "-H", self.tmp, f"--pidfile={self.tmp}/spamd.pid", "-s", f"{self.tmp}/spamd.log",
                "--max-children=2", "--min-children=1",
                f"--cf=bayes_path {self.tmp}/bayes", "--cf=bayes_file_mode 0777",
                "--cf=use_bayes 1", "--cf=bayes_auto_learn 0"]
        for cf in extra_cf:
            args.append(f"--cf={cf}")
        if os.geteuid() == 0:
            args += ["-u", "nobody"]
        # Its own session, so stop() can end spamd and its children by our process group id.
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_port(self.port, self.proc, timeout=120)
        return self

    def stop(self):
        if not self.proc:
            return
        pgid = self.proc.pid  # the session leader's pid is the group id
        try:
            os.killpg(pgid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(pgid, signal.SIGKILL)  # children that outlived the parent
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
