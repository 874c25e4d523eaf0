#!/usr/bin/env python3
"""What sharing the learned mail model through Redis costs (docs/redis.md "Shared learned
models"): a private redis-server and greyflux nodes on loopback.

  1. node A gets N spamd TELLs (synthetic mails, --words words each from a 5,000-word
     vocabulary, half spam, half ham); node B runs beside it with the default sync interval;
  2. Redis bytes per learned mail: used_memory growth / N, and MEMORY USAGE of the records;
  3. time for B to learn all N (from A's last TELL to B's `spamd.shared_log.applied` = N), and
     for one more TELL at A to reach B;
  4. the re-read of a large log: node C started after the N records replays them at start-up
     (its log line "shared training log: N records read ... (X ms)"), and B's steady polls cost
     one GET each (redis.round_trips per second while idle).

usage: shared_model_sync.py GREYFLUX [--count N] [--words W] [--sync 5s]"""
import argparse
import os
import random
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "redis"))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "spamd"))
from redis_helpers import RedisServer, use_redis  # noqa: E402
from gfakismet import AkismetDaemon  # noqa: E402
from gfdaemon import free_port  # noqa: E402
from spamdlib import exchange, request  # noqa: E402


def mail(rng, vocab, i, spam, words):
    body = " ".join(rng.choice(vocab) for _ in range(words))
    kind = "offer" if spam else "notes"
    return (f"From: sender{rng.randrange(500)}@{kind}{rng.randrange(50)}.example\r\n"
            f"To: user@example.org\r\nSubject: {kind} {i} {rng.choice(vocab)}\r\n"
            f"Message-ID: <m{i}.{spam}@bench.example>\r\n\r\n{body}\r\n")


def redis_info(redis, *args):
    return subprocess.run(["redis-cli", "-p", str(redis.port), *args], capture_output=True,
                          text=True, timeout=60).stdout


def used_memory(redis):
    return int(re.search(r"used_memory:(\d+)", redis_info(redis, "INFO", "memory"))[1])


def node(binary, redis, sync):
    port = free_port()
    d = use_redis(AkismetDaemon(binary, backend="redis", sets=[
        f'spamd.listen=["127.0.0.1:{port}"]', "store.redis_timeout=500ms",
        f"store.model_sync_interval={sync}", "spamd.shared_log_records=1000000"]), redis.url)
    d.sets += ["--set", f'spamd.model="{d.tmp}/mail.model"']
    d.spamd_port = port
    return d


def tell(d, msg, cls):
    out = exchange(d.spamd_port, request("TELL", msg, [f"Message-class: {cls}", "Set: local"]))
    if b"DidSet: local" not in out and b"EX_OK" not in out:
        raise SystemExit("TELL failed: " + out[:200].decode("utf-8", "replace"))


def wait_applied(d, n, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if d.stats().get("spamd.shared_log.applied", 0) >= n:
            return time.time() - t0
        time.sleep(0.05)
    raise SystemExit(f"node did not apply {n} records in {timeout} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--words", type=int, default=300)
    ap.add_argument("--sync", default="5s")
    o = ap.parse_args()
    rng = random.Random(13)
    vocab = [f"w{rng.randrange(10**6):06d}" for _ in range(5000)]
    redis = RedisServer().start()
    a, b, c = (node(o.binary, redis, o.sync) for _ in range(3))
    try:
        a.start()
        b.start()
        m0 = used_memory(redis)
        t0 = time.time()
        mails = [mail(rng, vocab, i, i % 2 == 0, o.words) for i in range(o.count)]
        for i, m in enumerate(mails):
            tell(a, m, "spam" if i % 2 == 0 else "ham")
        fed = time.time() - t0
        caught_up = wait_applied(b, o.count, 600)
        per = (used_memory(redis) - m0) / o.count
        sample = redis_info(redis, "MEMORY", "USAGE", "gf:a:ml:" + format(o.count // 2, "016x"))
        print(f"fed {o.count} TELLs to A in {fed:.1f} s ({o.count / fed:.0f}/s; mail size "
              f"{sum(map(len, mails)) // o.count} bytes, {o.words} words)")
        print(f"Redis: {per:.0f} bytes of used_memory per learned mail; one record "
              f"{sample.strip()} bytes (MEMORY USAGE)")
        print(f"B applied all {o.count} records {caught_up:.2f} s after A's last TELL "
              f"(sync {o.sync})")
        t1 = time.time()
        tell(a, mail(rng, vocab, o.count, True, o.words), "spam")
        one = wait_applied(b, o.count + 1, 60)
        print(f"one more TELL at A reached B after {time.time() - t1:.2f} s "
              f"(poll of B's stats every 50 ms: {one:.2f} s)")
        rt0, t2 = b.stats()["redis.round_trips"], time.time()
        time.sleep(20)
        rt1 = b.stats()["redis.round_trips"]
        print(f"idle B: {(rt1 - rt0 - 1) / (time.time() - t2):.2f} Redis round trips/s "
              f"(comment and mail polls, sync {o.sync})")
        t3 = time.time()
        c.start()
        print(f"C started (policy port open) {time.time() - t3:.2f} s after launch")
        c.wait_log("shared training log:", timeout=60)
        line = next((ln for ln in c.log_text().splitlines() if "shared training log:" in ln), "")
        print("C start-up replay:", line.split("spamd: ", 1)[-1])
        stats = b.stats()
        print("B:", {k: v for k, v in stats.items() if k.startswith("spamd.shared_log")})
    finally:
        for d in (a, b, c):
            d.stop()
        redis.stop()


if __name__ == "__main__":
    main()
