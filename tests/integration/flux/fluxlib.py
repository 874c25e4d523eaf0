"""Helpers shared by the flux integration tests (loopback only)."""
import socket
import subprocess
import time


def free_port():
    # Unbound binds UDP and TCP: find a port free for both.
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


def dig(port, name, qtype="A"):
    out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+time=2", "+tries=1",
                          "+noall", "+comments", "+answer", name, qtype],
                         capture_output=True, text=True, timeout=20).stdout
    status = ""
    for line in out.splitlines():
        if "status:" in line:
            status = line.split("status:")[1].split(",")[0].strip()
    answers = [l.split()[-1] for l in out.splitlines()
               if l and not l.startswith(";") and len(l.split()) >= 5 and l.split()[3] == qtype]
    return status, answers


def wait_for(pred, seconds, what):
    deadline = time.time() + seconds
    while not pred():
        if time.time() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.1)
