"""The wall clock stepped back an hour and forward a day while policy requests flow.

The machine's clock cannot be stepped safely in a test, and libfaketime aborts in the daemon
(its clock_gettime() recurses into jemalloc's start-up), so the daemon is started with
GREYFLUX_TEST_CLOCK_OFFSET_FILE: whole seconds in that file are added to what the system wall
clock says, read at every call (src/io/sys/wall_clock.cpp); the boot clock is left alone, as a
real clock step leaves it. greylist.delay is 4 s.

Running daemon: a triplet that passed (P), one waiting (W) and one first seen after the step
(N1) go through a step back of an hour; one first seen just before it (N2) through a step
forward of a day. Each waiting triplet must pass between delay - 1 s (whole-second times) and
delay + 1.5 s of real time after its first attempt, P must keep passing, and a loader sending
new triplets all along must get a deferral for every one. `greyflux stats` must count the 2
steps and the offset, the log must say so in one warning line per step.
Across a restart: the daemon restarts with the clock an hour back; a triplet first seen before
the restart (now "in the future") starts its delay again (reason clock-went-back): it must
not pass before the delay, and pass once it has run; P keeps passing.

Usage: clock_step_test.py GREYFLUX_BINARY
Duration: about 25 s."""
import os
import shutil
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "daemon"))
from gfdaemon import Conn, Daemon  # noqa: E402

DELAY = 4
HOUR, DAY = 3600, 86400


class ClockOffset:
    def __init__(self, tmp):
        self.file = os.path.join(tmp, "clock-offset")
        self.set(0)

    def set(self, offset_s):
        with open(self.file + ".new", "w") as f:
            f.write(f"{offset_s:+d}\n")
        os.replace(self.file + ".new", self.file)  # never read half-written

    def env(self):
        return {"GREYFLUX_TEST_CLOCK_OFFSET_FILE": self.file}


def start_faked(d, fake):
    saved = dict(os.environ)
    os.environ.update(fake.env())
    try:
        d.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Loader(threading.Thread):
    """New triplets without pause: every one must be deferred."""

    def __init__(self, port, tag):
        super().__init__(daemon=True)
        self.conn, self.tag = Conn(port), tag
        self.stop = threading.Event()
        self.answered, self.wrong = 0, []

    def run(self):
        while not self.stop.is_set():
            reply = self.conn.ask(recipient=f"{self.tag}{self.answered}@example.org")
            if not reply.startswith("action=DEFER"):
                self.wrong.append(reply)
            self.answered += 1
            time.sleep(0.002)


def until_passed(conn, first_seen, names, also_known=()):
    """Retries each waiting triplet every 0.2 s until it passes; returns {name: seconds after its
    first attempt}. Triplets in also_known must pass every time."""
    passed = {}
    deadline = time.monotonic() + DELAY + 5
    while len(passed) < len(names) and time.monotonic() < deadline:
        for name in names:
            if name in passed:
                continue
            reply = conn.ask(recipient=name)
            if not reply.startswith("action=DEFER"):
                passed[name] = time.monotonic() - first_seen[name]
        for name in also_known:
            reply = conn.ask(recipient=name)
            assert reply == "action=DUNNO", f"{name} stranded after the step: {reply}"
        time.sleep(0.2)
    missing = [n for n in names if n not in passed]
    assert not missing, f"never passed within {DELAY + 5} s: {missing}"
    return passed


def check_timing(passed):
    bad = {n: round(s, 2) for n, s in passed.items() if not DELAY - 1 <= s <= DELAY + 1.5}
    assert not bad, f"passed outside [{DELAY - 1}, {DELAY + 1.5}] s after the first attempt: {bad}"


def first_attempt(conn, first_seen, name):
    reply = conn.ask(recipient=name)
    assert reply.startswith("action=DEFER"), f"{name}: {reply}"
    first_seen[name] = time.monotonic()


def running_steps(d, fake, conn, first_seen):
    loader = Loader(d.port, "flow")
    loader.start()
    try:
        first_attempt(conn, first_seen, "P@example.org")
        check_timing(until_passed(conn, first_seen, ["P@example.org"]))
        first_attempt(conn, first_seen, "W@example.org")
        time.sleep(1)
        fake.set(-HOUR)
        first_attempt(conn, first_seen, "N1@example.org")
        back = until_passed(conn, first_seen, ["W@example.org", "N1@example.org"],
                            also_known=["P@example.org"])
        check_timing(back)
        first_attempt(conn, first_seen, "N2@example.org")
        time.sleep(1)
        fake.set(-HOUR + DAY)
        forward = until_passed(conn, first_seen, ["N2@example.org"],
                               also_known=["P@example.org", "W@example.org", "N1@example.org"])
        check_timing(forward)
    finally:
        loader.stop.set()
        loader.join()
    assert not loader.wrong, f"new triplets not deferred: {loader.wrong[:3]}"
    stats = d.stats()
    warnings = [line for line in d.log_text().splitlines() if "system clock stepped" in line]
    print(f"running: step back 1 h: W passed {back['W@example.org']:.1f} s, N1 "
          f"{back['N1@example.org']:.1f} s after their first attempt; step forward 1 d: N2 "
          f"{forward['N2@example.org']:.1f} s (delay {DELAY} s); P passed throughout; "
          f"{loader.answered} new triplets, all deferred")
    print(f"stats: clock.steps {stats['clock.steps']}, clock.offset_s {stats['clock.offset_s']}")
    print("log:", *warnings, sep="\n  ")
    assert stats["clock.steps"] == 2, stats
    assert abs(stats["clock.offset_s"] - (DAY - HOUR)) <= 2, stats
    assert len(warnings) == 2 and "-3600 s" in warnings[0] and "+86400 s" in warnings[1], warnings


def across_restart(d, fake, conn, first_seen):
    first_attempt(conn, first_seen, "R@example.org")
    assert d.stop() == 0
    fake.set(-HOUR)
    start_faked(d, fake)
    conn = Conn(d.port)
    assert conn.ask(recipient="P@example.org") == "action=DUNNO", "P stranded by the restart"
    restarted = time.monotonic()
    reply = conn.ask(recipient="R@example.org")
    assert reply.startswith("action=DEFER"), f"R passed early after the clock went back: {reply}"
    first_seen["R@example.org"] = restarted
    passed = until_passed(conn, first_seen, ["R@example.org"], also_known=["P@example.org"])
    check_timing(passed)
    stats = d.stats()
    print(f"restart 1 h back: R (first seen before the restart) passed "
          f"{passed['R@example.org']:.1f} s after the restart; decisions.clock-went-back "
          f"{stats['decisions.clock-went-back']}; clock.steps {stats['clock.steps']}")
    assert stats["decisions.clock-went-back"] == 1, stats
    assert stats["clock.steps"] == 0, stats


def main():
    binary = sys.argv[1]
    d = Daemon(binary, sets=[f"greylist.delay={DELAY}s", "greylist.auto_whitelist_after=0",
                             "greylist.domain_auto_whitelist_after=0"])
    fake = ClockOffset(d.tmp)
    first_seen = {}
    try:
        start_faked(d, fake)
        conn = Conn(d.port)
        running_steps(d, fake, conn, first_seen)
        across_restart(d, fake, conn, first_seen)
        assert d.stop() == 0
    finally:
        d.stop(signal.SIGKILL)
        shutil.rmtree(d.tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
