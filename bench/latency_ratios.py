#!/usr/bin/env python3
"""Latency under trouble, as a ratio to the same daemon without the trouble, measured in one run
(the functional tests assert no latency: a loaded CI machine makes absolute times meaningless).

  store failure: p50/p99/max of 5000 policy requests once the LMDB map is full (commits fail,
                 answers are the configured failure answer) / the same with a healthy store.
  slow clients:  median time of `spamc -c` while 50 clients hold half-sent requests / without.

Usage: python3 bench/latency_ratios.py GREYFLUX_BINARY   (make bench runs it; needs spamc)
A ratio near 1 means the trouble does not reach other requests.
"""
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "daemon"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "spamd"))
from gfdaemon import Conn, Daemon  # noqa: E402
from spamdlib import SPAM_MAIL, Greyflux  # noqa: E402

N = 5000


def policy_times(binary, *sets, until_failing=False):
    """N timed requests; with until_failing, untimed ones first until the store fails."""
    d = Daemon(binary, sets=("greylist.delay=1h", *sets))
    d.start()
    try:
        c = Conn(d.port)
        times, dunno = [], 0
        j = 0
        deadline = time.time() + 120
        while until_failing and time.time() < deadline:
            j += 1
            if c.ask(recipient=f"{'y' * 150}{j}@example.org") == "action=DUNNO":
                break
        for i in range(N):
            t0 = time.perf_counter()
            r = c.ask(recipient=f"{'x' * 150}{i}@example.org")
            times.append(time.perf_counter() - t0)
            dunno += r == "action=DUNNO"
        return sorted(times), dunno
    finally:
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)


def pct(times, q):
    return times[min(len(times) - 1, int(len(times) * q))]


def store_failure(binary):
    healthy, _ = policy_times(binary)
    failing, dunno = policy_times(binary, "store.map_size=128KiB", until_failing=True)
    print(f"store failure: {dunno} of {N} answers were the failure answer")
    for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        h, f = pct(healthy, q), pct(failing, q)
        print(f"  {name}: healthy {h * 1e3:8.3f} ms  failing {f * 1e3:8.3f} ms  ratio {f / h:6.2f}")


def spamc_seconds(gf, runs=10):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        p = subprocess.run(["spamc", "-c", "-t", "30", "-d", "127.0.0.1", "-p", str(gf.port)],
                           input=SPAM_MAIL.encode(), capture_output=True, timeout=60)
        times.append(time.perf_counter() - t0)
        assert p.returncode == 1, p
    return statistics.median(times)


def slow_clients(binary):
    if shutil.which("spamc") is None:
        print("slow clients: spamc not installed (bash scripts/deps.sh test), not measured")
        return
    gf = Greyflux(binary, extra='timeout = "5s"').start()
    try:
        alone = spamc_seconds(gf)
        slow = []
        for _ in range(50):
            s = socket.create_connection(("127.0.0.1", gf.port))
            s.sendall(b"CHECK SPAMC/1.5\r\nContent-len")
            slow.append(s)
        crowded = spamc_seconds(gf)
        for s in slow:
            s.close()
        print(f"slow clients: spamc -c median alone {alone * 1e3:.1f} ms, with 50 slow clients "
              f"{crowded * 1e3:.1f} ms, ratio {crowded / alone:.2f}")
    finally:
        gf.cleanup()


def main():
    binary = os.path.abspath(sys.argv[1])
    store_failure(binary)
    slow_clients(binary)


if __name__ == "__main__":
    main()
