"""The greylist store on a small tmpfs that fills up while policy requests flow.

1. The store (LMDB, store.path) lives on a tmpfs of --size-mib mounted here (needs root: as
   another user the test exits 77, which ctest reports as skipped, with the reason).
2. Triplets are sent until the data file has grown; a filler file then takes every free byte.
3. Triplets keep coming: every request must be answered, with DEFER (written) or, once the
   commit fails, the fail-open DUNNO (reason store-failure); `greyflux stats` counts the failed
   commits and the store-failure decisions; the log says why in ONE error line from the store
   (not one per retried commit) and the front door adds at most one warning a minute.
4. The filler is removed: writes resume (commits go up, new triplets are deferred and stored).
5. The daemon stops, `greyflux greylist list` reopens the store offline: it opens clean and
   holds every triplet that was answered DEFER, before, during and after the full disk (a batch
   whose commit failed is kept and committed when space returns, not dropped).

Usage: disk_full_test.py GREYFLUX_BINARY [--size-mib N] [--full-seconds S]
Duration: about 10 s."""
import argparse
import errno
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from gfdaemon import Conn, Daemon  # noqa: E402

SKIP = 77


def mount_tmpfs(where, size_mib):
    os.makedirs(where)
    out = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size_mib}m,mode=0700", "tmpfs",
                          where], capture_output=True, text=True)
    return out.returncode == 0, out.stderr.strip()


def fill(path):
    """Writes a file until the file system is full; returns its size in bytes."""
    block, size = b"\0" * 65536, 0
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                size += f.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(block) == 1:
                    return size
                block = block[:len(block) // 2]


class Sender:
    def __init__(self, port):
        self.conn, self.n = Conn(port, timeout=10), 0
        self.deferred, self.dunno = [], 0

    def send(self, phase):
        rcpt = f"{phase}{self.n}@example.org"
        self.n += 1
        reply = self.conn.ask(recipient=rcpt)
        if reply.startswith("action=DEFER"):
            self.deferred.append(rcpt)
        elif reply == "action=DUNNO":
            self.dunno += 1
        else:
            raise AssertionError(f"{rcpt}: unexpected answer {reply!r}")


def failure_lines(d):
    return [line for line in d.log_text().splitlines() if " E " in line or " W " in line]


def run(args, d, mnt):
    d.start()
    s = Sender(d.port)
    for _ in range(2000):
        s.send("before")
    d.cli("stats")  # a commit round has passed: the batch is on the tmpfs
    d.wait_stats(lambda v: v.get("store.records_written", 0) >= 2000)
    filler = os.path.join(mnt, "filler")
    filled = fill(filler)
    before_full = len(s.deferred)
    # Full: requests keep being answered until the commit has failed, and for a while after.
    deadline = time.time() + 10
    while d.stats().get("store.commit_failures", 0) == 0:
        assert time.time() < deadline, "no commit failed with the file system full"
        for _ in range(200):
            s.send("filling")
    dunno_at_failure, t0 = s.dunno, time.time()
    while time.time() - t0 < args.full_seconds:
        s.send("full")
    full = d.stats()
    answered_full = s.n - before_full
    assert s.dunno > dunno_at_failure, "no fail-open DUNNO while the disk was full"
    assert full["decisions.store-failure"] >= s.dunno - dunno_at_failure, full
    # The cause, once per outage, from the store; the effect (answering DUNNO) at most once a
    # minute from the front door.
    lines = failure_lines(d)
    cause = [line for line in lines if "commit of" in line]
    assert len(cause) == 1 and "No space left on device" in cause[0], lines
    assert len(lines) <= 2, lines
    print(f"full: {answered_full} requests answered ({s.dunno} fail-open DUNNO), "
          f"store.commit_failures {full['store.commit_failures']}, "
          f"decisions.store-failure {full['decisions.store-failure']}, filler {filled} bytes")
    print("log:", *lines, sep="\n  ")

    os.unlink(filler)
    commits = full["store.commits"]
    after = d.wait_stats(lambda v: v["store.commits"] > commits, timeout=10)
    assert after["store.commits"] > commits, "no commit after space came back"
    deferred_before_recovery = len(s.deferred)
    for _ in range(500):
        s.send("after")
    assert len(s.deferred) - deferred_before_recovery == 500, "writes did not resume"
    assert d.stop() == 0, "the daemon did not stop cleanly"
    out = d.cli("greylist", "list")
    assert out.returncode == 0, f"the store does not open: {out.stderr.strip()}"
    stored = {line.split("\t")[2] for line in out.stdout.splitlines() if line.count("\t") >= 2}
    lost = [r for r in s.deferred if r not in stored]
    assert not lost, f"{len(lost)} acknowledged triplets missing, e.g. {lost[:3]}"
    print(f"recovered: writes resumed, {len(s.deferred)} acknowledged triplets all stored "
          f"({len(stored)} rows listed), {len(failure_lines(d))} warning/error log lines")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--size-mib", type=int, default=4)
    p.add_argument("--full-seconds", type=float, default=2.0)
    args = p.parse_args()
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root (run as root to test a full disk)")
        return SKIP
    d = Daemon(args.binary, sets=["greylist.delay=1h"])
    mnt = os.path.join(d.tmp, "small")
    ok, why = mount_tmpfs(mnt, args.size_mib)
    if not ok:
        shutil.rmtree(d.tmp, ignore_errors=True)
        print(f"SKIP: cannot mount a tmpfs here: {why}")
        return SKIP
    with open(d.config) as f:
        text = f.read().replace(f'path = "{d.tmp}/db"', f'path = "{mnt}/db"')
    with open(d.config, "w") as f:
        f.write(text)
    try:
        run(args, d, mnt)
    finally:
        d.stop(signal.SIGKILL)
        subprocess.run(["umount", mnt])
        shutil.rmtree(d.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
