"""Restart time of the comment API against the feedback backlog a kill -9 leaves behind.

Each round: a fresh daemon with akismet.model_save_interval = 1h (no timed snapshot) and
akismet.model_save_records = --records (a snapshot once that many reports are not in the stored
model), N submit-spam/submit-ham reports over 4 keep-alive connections, kill -9, then a restart
timed from exec to the first comment-check answered. The daemon's log says how many reports the
start replayed from the training log. With --records at its default (10,000) the replay, and so
the restart, must stay bounded whatever N is: the test fails if a start replayed more than
--records + the reports of one second of load (the snapshot timer ticks once a second).
--records 1000000000 shows the behaviour before the bound (every report since the last snapshot
is replayed).

Usage: akismet_backlog_test.py GREYFLUX_BINARY [--backlogs 2000,10000,40000] [--records N]"""
import argparse
import http.client
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from gfdaemon import Daemon, free_port  # noqa: E402

THANKS = "Thanks for making the web a better place."
REPLAYED = re.compile(r"akismet: model trained on \d+ spam and \d+ ham \((\d+) replayed")


def post(conn, path, fields):
    conn.request("POST", path, body=urllib.parse.urlencode(fields),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    return r.status, r.read().decode()


def comment(key, i):
    words = " ".join(f"w{i}x{k}" for k in range(12))
    return {"api_key": key, "blog": "https://blog.example", "user_ip": "192.0.2.10",
            "comment_type": "comment", "comment_author": f"Author {i % 97}",
            "comment_content": f"{'cheap pills' if i % 2 else 'thanks for the post'} {words}"}


def feed(port, key, n, connections=4):
    """n reports, half spam, half ham; returns reports per second."""
    done = [0] * connections

    def loop(c):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for i in range(c, n, connections):
            status, text = post(conn, "/1.1/submit-spam" if i % 2 else "/1.1/submit-ham",
                                comment(key, i))
            assert status == 200 and text == THANKS, (status, text)
            done[c] += 1
        conn.close()
    start = time.monotonic()
    threads = [threading.Thread(target=loop, args=(c,)) for c in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(done) == n, f"{sum(done)} of {n} reports answered"
    return n / (time.monotonic() - start)


def timed_restart(d, port, key):
    """Seconds from exec to the first comment-check answer."""
    start = time.monotonic()
    try:
        d.start()
    except RuntimeError:  # not listening within 10 s: a long replay; wait for it (bounded)
        if d.proc.poll() is not None:
            raise
    while time.monotonic() - start < 300:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            status, _ = post(conn, "/1.1/comment-check", comment(key, 1))
            conn.close()
            if status == 200:
                return time.monotonic() - start
        except OSError:
            time.sleep(0.01)
    raise AssertionError("no comment-check answer 300 s after the restart")


def round_(binary, n, records):
    port = free_port()
    d = Daemon(binary, sets=[f'http.listen=["127.0.0.1:{port}"]',
                             "akismet.model_save_interval=1h",
                             f"akismet.model_save_records={records}"])
    try:
        key = d.cli("keys", "add", "--blog", "https://blog.example").stdout.strip()
        assert key, "no API key"
        d.start()
        rate = feed(port, key, n)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
        secs = timed_restart(d, port, key)
        deadline = time.time() + 10  # the log is flushed now and then
        while len(REPLAYED.findall(d.log_text())) < 2 and time.time() < deadline:
            time.sleep(0.05)
        replays = REPLAYED.findall(d.log_text())
        assert len(replays) == 2, f"start lines: {replays}"
        replayed = int(replays[-1])
        d.stop()
        print(f"backlog {n:6d} reports ({rate:5.0f}/s), model_save_records {records}: restart "
              f"replayed {replayed:6d}, first answer after {secs * 1000:6.0f} ms", flush=True)
        return replayed, secs, rate
    finally:
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("binary")
    p.add_argument("--backlogs", default="2000,10000,40000")
    p.add_argument("--records", type=int, default=10000)
    args = p.parse_args()
    worst = 0
    for n in [int(x) for x in args.backlogs.split(",")]:
        replayed, _, rate = round_(args.binary, n, args.records)
        allowed = args.records + int(rate) + 1
        if replayed > allowed:
            print(f"FAIL: a start replayed {replayed} reports, more than {allowed}")
            worst = 1
    return worst


if __name__ == "__main__":
    sys.exit(main())
