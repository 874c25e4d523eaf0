"""Shared machinery of the kill -9 tests: CPU hogs, a multi-connection load that records when
each write was acknowledged, the kill, and the loss window.

A door (one front door's test) provides:
  sets                       extra --set values for the daemon
  prepare(d)                 once, before the first run (make an API key, ...); optional
  before_load(d)             each run, once the daemon is up, before the load; optional
  connect(d, i)              a client for connection i
  write(client, run, i, n)   one acknowledged write; returns its id, or None if not acknowledged
  stored(d, run, acked_ids)  after the kill: the set of this run's ids the store still has (the
                             daemon is not running; a door may start and stop it to ask);
                             acked_ids are in acknowledgement order
  bound_ms                   the loss allowed (bound_ms() below)
Each run: start the daemon (on the store of the previous kill: it must open clean), load it over
`connections` connections for `seconds`, SIGKILL it, and count the acknowledged writes the store
no longer has. The loss window is the last answer's time minus the answer time of the oldest
lost write.
"""
import argparse
import os
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "daemon"))
from gfdaemon import ClientThreads, Daemon  # noqa: E402,F401  (Daemon re-exported for the doors)


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


class Hogs:
    """`n` busy-loop processes at nice 0, started and killed here."""

    def __init__(self, n):
        self.n, self.procs = n, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
                      for _ in range(self.n)]
        return self

    def __exit__(self, *exc):
        for h in self.procs:
            h.kill()
            h.wait()


class Load(ClientThreads):
    """Writes through `door` over `connections` connections; records each acknowledgement."""

    def __init__(self, door, d, connections, run):
        super().__init__()
        self.door, self.d, self.run = door, d, run
        self.acked = [[] for _ in range(connections)]  # per connection: (monotonic time, id)
        self.threads = [threading.Thread(target=self.loop, args=(i,)) for i in range(connections)]

    def loop(self, i):
        out, n = self.acked[i], 0
        try:
            client = self.door.connect(self.d, i)
            while not self.stop.is_set():
                wid = self.door.write(client, self.run, i, n)
                if wid is not None:
                    out.append((time.monotonic(), wid))
                n += 1
        except OSError:
            pass  # the kill closes the connection


def one_run(door, d, run, args, hogs):
    d.start()  # on the store of the previous kill: raises if it does not open and serve
    db = getattr(door, "lmdb_dir", None)
    txn_before = lmdb_last_txnid(db(d)) if db else None
    if hasattr(door, "before_load"):
        door.before_load(d)
    with Load(door, d, args.connections, run) as load:
        time.sleep(args.seconds)
        killed_at = time.monotonic()
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait()
    txns = lmdb_last_txnid(db(d)) - txn_before if db else -1
    acked = [a for per_conn in load.acked for a in per_conn]
    try:
        stored, clean = door.stored(d, run, [wid for _, wid in sorted(acked)]), 1
    except (AssertionError, RuntimeError) as e:  # the killed store did not open or serve
        print(f"run {run}: the store did not open clean after kill -9: {e}")
        stored, clean = set(), 0
    lost = [t for t, wid in acked if wid not in stored]
    # An answer read just after the kill time was taken still came before the kill.
    end = max([killed_at] + [t for t, _ in acked])
    lost_ms = (end - min(lost)) * 1000 if lost else 0.0
    old = sorted(round((end - t) * 1000) for t in lost if (end - t) * 1000 > door.bound_ms)
    if old:  # say what happened, for the failure report
        print(f"run {run}: {len(old)} lost answers older than {door.bound_ms} ms, ages "
              f"{old[-5:]} ms; daemon log warnings:", *[line for line in d.log_text().splitlines()
                                                        if "warn" in line or "error" in line][-5:],
              sep="\n  ")
    rate = len(acked) / args.seconds
    txn_text = f"{txns:3d} LMDB transactions, " if txns >= 0 else ""
    print(f"{door.name} run {run:2d} ({hogs} hogs): {len(acked):6d} acknowledged ({rate:6.0f}/s), "
          f"{txn_text}{len(lost):5d} lost = the last {lost_ms:5.0f} ms", flush=True)
    return dict(hogs=hogs, txns=txns, acked=len(acked), lost=len(lost), lost_ms=lost_ms,
                rate=rate, clean=clean)


def bound_ms(args, window_ms=None):
    """The loss allowed. With the write journal (store.journal, as shipped) every write is in
    the kernel's page cache before its reply, so a kill -9 loses none: the bound is --margin-ms
    (default 0). With --no-write-journal it is the door's window (the commit interval) plus
    --margin-ms (default 400: the commit in flight when the kill lands)."""
    if args.no_write_journal or window_ms is not None:
        window = args.interval_ms if window_ms is None else window_ms
        return window + (400 if args.margin_ms is None else args.margin_ms)
    return 0 if args.margin_ms is None else args.margin_ms


def arguments(description, interval_ms=100, connections=2, extra=None):
    p = argparse.ArgumentParser(description=description)
    if extra:
        extra(p)
    p.add_argument("binary")
    p.add_argument("--runs", type=int, default=5, help="kills with --hogs busy loops")
    p.add_argument("--idle-runs", type=int, default=0, help="kills first with no busy loop")
    p.add_argument("--seconds", type=float, default=3.0)
    p.add_argument("--connections", type=int, default=connections)
    p.add_argument("--hogs", type=int, default=4)
    p.add_argument("--interval-ms", type=int, default=interval_ms)
    p.add_argument("--margin-ms", type=int, default=None)
    p.add_argument("--no-write-journal", action="store_true",
                   help="store.journal=false: the group commit alone keeps the writes")
    return p.parse_args()


def summary(door, results, args):
    """One line per machine state: kills, rate, LMDB transactions, lost writes and ms (median
    and max), clean opens (each kill's store opened and served again)."""
    for hogs in sorted({r["hogs"] for r in results}):
        rs = [r for r in results if r["hogs"] == hogs]
        txns = sorted(r["txns"] for r in rs)
        lost = sorted(r["lost"] for r in rs)
        ms = sorted(r["lost_ms"] for r in rs)
        txn_text = (f"LMDB transactions per {args.seconds:g} s {txns[0]}-{txns[-1]} (median "
                    f"{statistics.median(txns):g}), " if txns[0] >= 0 else "")
        print(f"{door.name}: {len(rs)} kills, {hogs} hogs, {args.connections} connections: "
              f"{min(r['rate'] for r in rs):.0f}-{max(r['rate'] for r in rs):.0f} writes/s, "
              f"{txn_text}lost writes median {statistics.median(lost):g} max {lost[-1]}, "
              f"lost ms median {statistics.median(ms):.0f} max {ms[-1]:.0f} (bound "
              f"{door.bound_ms} ms), clean opens {sum(r['clean'] for r in rs)}/{len(rs)}")


def main(door, args):
    """Runs the kills; returns the exit status (1 if a kill lost more than door.bound_ms)."""
    d = Daemon(args.binary, sets=["greylist.delay=1h",
                                  f"store.commit_interval={args.interval_ms}ms",
                                  f"store.journal={'false' if args.no_write_journal else 'true'}",
                                  *door.sets])
    results = []
    try:
        if hasattr(door, "prepare"):
            door.prepare(d)
        for run in range(args.idle_runs):
            results.append(one_run(door, d, run, args, 0))
        with Hogs(args.hogs):
            for run in range(args.idle_runs, args.idle_runs + args.runs):
                results.append(one_run(door, d, run, args, args.hogs))
        d.start()  # the store of the last kill serves again
        door.after_last_kill(d)
    finally:
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)
    summary(door, results, args)
    unclean = sum(1 - r["clean"] for r in results)
    if unclean:
        print(f"FAIL: {unclean} of {len(results)} killed stores did not open clean")
        return 1
    worst = max(r["lost_ms"] for r in results)
    if worst > door.bound_ms:
        print(f"FAIL: a kill lost {worst:.0f} ms of acknowledged writes, more than "
              f"{door.bound_ms} ms")
        return 1
    return 0
