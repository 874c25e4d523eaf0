"""kill -9 while other processes keep both cores busy: acknowledged greylist writes lost.

Each run: 4 busy-loop processes at nice 0 (started and killed here) keep the cores saturated, a
policy client sends new triplets over a few connections and records when each was answered, and
after `--seconds` the daemon is killed with SIGKILL. Then `greyflux greylist list` opens the store
offline (it must open clean) and every answered triplet it no longer has is counted. The loss
window is the last answer's time minus the answer time of the oldest lost triplet; it must stay
within one commit interval plus --margin-ms (default 400: the commit in flight when the kill
lands is lost too, and on this 2-core machine shared by 8 builds a round took up to ~300 ms;
the SCHED_IDLE commit this test was written for lost 2-3 s, everything since the start). The next run restarts the daemon on the same store. LMDB
transactions during the load are read from the data file's meta pages (the last txnid).

Usage: kill9_contention_test.py GREYFLUX_BINARY [--runs N] [--seconds S] [--connections C]
       [--hogs H] [--interval-ms MS] [--margin-ms MS]
Duration: about 4.5 s a run on a 2-core machine (3 s of load, the kill, the offline list, the
restart), so 5 runs (make test) take ~25 s and 20 runs (make test-long) ~90 s."""
import argparse
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from gfdaemon import Conn, Daemon  # noqa: E402


def lmdb_last_txnid(path):
    """The newest txnid of an LMDB environment's two meta pages (LMDB 0.9 layout, 64-bit)."""
    with open(os.path.join(path, "data.mdb"), "rb") as f:
        head = f.read(160)
        magic, = struct.unpack_from("<I", head, 16)
        if magic != 0xBEEFC0DE:
            raise RuntimeError(f"{path}: not an LMDB data file")
        page_size, = struct.unpack_from("<I", head, 40)  # mm_dbs[FREE_DBI].md_pad
        f.seek(page_size)
        second = f.read(160)
    return max(struct.unpack_from("<Q", head, 144)[0], struct.unpack_from("<Q", second, 144)[0])


class Client:
    """Sends new triplets over `connections` connections; records each answer's time."""

    def __init__(self, port, connections, run):
        self.port, self.run = port, run
        self.stop = threading.Event()
        self.acked = [[] for _ in range(connections)]  # per connection: (monotonic time, id)
        self.threads = [threading.Thread(target=self.loop, args=(i,)) for i in range(connections)]

    def loop(self, i):
        conn, n, out = Conn(self.port, timeout=2), 0, self.acked[i]
        try:
            while not self.stop.is_set():
                rcpt = f"r{self.run}c{i}n{n}@example.org"
                reply = conn.ask(recipient=rcpt)
                if reply.startswith("action=DEFER"):
                    out.append((time.monotonic(), rcpt))
                n += 1
        except OSError:
            pass  # the kill closes the connection

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def stored_recipients(d, run):
    # The pattern keeps the listing to this run's triplets (a listing stops at 100,000 rows).
    out = d.cli("greylist", "list", f"r{run}c")
    if out.returncode != 0:
        raise AssertionError(f"the store did not open after kill -9: {out.stderr.strip()}")
    return {line.split("\t")[2] for line in out.stdout.splitlines() if line.count("\t") >= 2}


def one_run(d, run, args):
    d.start()
    txn_before = lmdb_last_txnid(d.tmp + "/db")
    with Client(d.port, args.connections, run) as client:
        time.sleep(args.seconds)
        killed_at = time.monotonic()
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
    txns = lmdb_last_txnid(d.tmp + "/db") - txn_before
    stored = stored_recipients(d, run)
    acked = [a for per_conn in client.acked for a in per_conn]
    lost = [t for t, rcpt in acked if rcpt not in stored]
    # An answer read just after the kill time was taken still came before the kill.
    end = max([killed_at] + [t for t, _ in acked])
    lost_ms = (end - min(lost)) * 1000 if lost else 0.0
    bound = args.interval_ms + args.margin_ms
    old = sorted(round((end - t) * 1000) for t in lost if (end - t) * 1000 > bound)
    if old:  # say what happened, for the failure report
        print(f"run {run}: {len(old)} lost answers older than {bound} ms, ages {old[-5:]} ms; "
              "daemon log warnings:", *[line for line in d.log_text().splitlines()
                                         if "warn" in line or "error" in line][-5:], sep="\n  ")
    rate = len(acked) / args.seconds
    print(f"run {run:2d}: {len(acked):6d} answered ({rate:6.0f}/s), {txns:3d} LMDB transactions, "
          f"{len(lost):5d} lost = the last {lost_ms:5.0f} ms", flush=True)
    return txns, len(acked), len(lost), lost_ms


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--connections", type=int, default=2)
    p.add_argument("--hogs", type=int, default=4)
    p.add_argument("--interval-ms", type=int, default=100)
    p.add_argument("--margin-ms", type=int, default=400)
    args = p.parse_args()
    d = Daemon(args.binary, sets=["greylist.delay=1h", f"store.commit_interval={args.interval_ms}ms"])
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.hogs)]
    results = []
    try:
        for run in range(args.runs):
            results.append(one_run(d, run, args))
        d.start()  # the store of the last kill serves again
        reply = Conn(d.port).ask(recipient="after-last-kill@example.org")
        assert reply.startswith("action=DEFER"), reply
    finally:
        for h in hogs:
            h.kill()
            h.wait()
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)
    worst = max(r[3] for r in results)
    txns = sorted(r[0] for r in results)
    print(f"{len(results)} kills, {args.hogs} hogs, {args.connections} connections: LMDB "
          f"transactions per {args.seconds:g} s {txns[0]}-{txns[-1]} (median "
          f"{txns[len(txns) // 2]}), lost {min(r[3] for r in results):.0f}-{worst:.0f} ms "
          f"(bound {args.interval_ms + args.margin_ms} ms)")
    bound = args.interval_ms + args.margin_ms
    if worst > bound:
        print(f"FAIL: a kill lost {worst:.0f} ms of answered writes, more than {bound} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
