#!/usr/bin/env python3
"""Debian's miltertest (libmilter's test client, an MTA side greyflux did not write) runs
callbacks.lua against greyflux's milter: every callback, skipped and refused steps, macros,
abort mid-message, several messages per connection, a 20 MiB body. No connection may be closed
for bad input, the counters must match what the script sent, and greyflux must exit 0 on
SIGTERM. Exit 77 when miltertest is not installed (scripts/deps.sh test).
With a second argument "redis": the same on [store] backend = "redis" (a private redis-server
on a free loopback port), where each packet is handled on the blocking pool, off the io thread.
Usage: miltertest_test.py /path/to/greyflux [redis]"""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "redis"))
from milterlib import Greyflux  # noqa: E402


def main():
    if len(sys.argv) not in (2, 3) or sys.argv[2:] not in ([], ["redis"]):
        print("usage: miltertest_test.py /path/to/greyflux [redis]")
        return 2
    mt = shutil.which("miltertest")
    if mt is None:
        print("SKIP: miltertest not installed (scripts/deps.sh test installs it)")
        return 77
    here = os.path.dirname(os.path.abspath(__file__))
    gf = Greyflux(sys.argv[1], extra='max_scan = "32MiB"', greylist='mode = "always"')
    whitelist = os.path.join(gf.tmp, "whitelist_recipients")
    with open(whitelist, "w") as f:
        f.write("example.org\n")
    redis = None
    if sys.argv[2:] == ["redis"]:
        from redis_helpers import RedisServer  # noqa: E402
        redis = RedisServer().start()
    with open(gf.config) as f:
        cfg = f.read().replace("whitelist_recipients = []",
                               f'whitelist_recipients = ["{whitelist}"]')
        if redis:
            cfg = cfg.replace('backend = "memory"',
                              f'backend = "redis"\nredis_url = "{redis.url}"', 1)
    with open(gf.config, "w") as f:
        f.write(cfg)
    ok = False
    try:
        gf.start()
        r = subprocess.run([mt, "-D", f"tcp=inet:{gf.port}@127.0.0.1", "-D", f"unix=unix:{gf.unix}",
                            "-s", os.path.join(here, "callbacks.lua")],
                           capture_output=True, text=True, timeout=120)
        print(r.stdout)
        if r.returncode != 0 or "miltertest: all checks passed" not in r.stdout:
            print(r.stderr)
            print(f"FAIL: miltertest exit {r.returncode}")
            print(gf.tail())
            return 1
        closing = gf.wait_log("milter: closing", timeout=1.5)
        if closing:
            print("FAIL: a connection was closed for bad input:\n" + "\n".join(closing))
            return 1
        stats = gf.admin_command("stats")
        for want in ("milter.messages\t5", "milter.rejected\t1", "milter.aborted\t1",
                     "milter.rcpt_greylisted\t1", "milter.protocol_errors\t0"):
            if want not in stats:
                print(f"FAIL: stats lack '{want}':\n{stats}")
                return 1
        rc = gf.stop()
        if rc != 0:
            print(f"FAIL: greyflux exited {rc} on SIGTERM")
            return 1
        ok = True
        print("PASS: miltertest against greyflux's milter")
        return 0
    finally:
        gf.cleanup(keep=not ok)
        if redis:
            redis.stop()


if __name__ == "__main__":
    sys.exit(main())
