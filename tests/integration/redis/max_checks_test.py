"""akismet.max_checks holds on Redis (standalone, or with the argument `cluster` a 3-master Redis
Cluster): greyflux with max_checks = 64 answers 500 comment-checks; then
  - exactly 64 stored checks are in Redis (16 buckets of 4: the newest of each), each bucket's
    index holds 4 entries, and every key of a bucket (checks and index) is in one slot;
  - `greyflux akismet show` finds the newest check and not the first one;
  - after 80 submit-ham the training log holds the newest 64 records (`gf:a:t:*`);
  - bytes per index entry (MEMORY USAGE of the indexes / entries), printed as a figure.
Usage: max_checks_test.py GREYFLUX standalone|cluster"""
import subprocess
import sys
import time

from redis_helpers import RedisServer, check, use_redis
from redis_cluster import RedisCluster
from gfakismet import AkismetDaemon, COMMENT

MAX_CHECKS = 64
CHECKS = 500
SUBMITS = 80


class Standalone:
    def __init__(self):
        self.server = RedisServer().start()
        self.url = self.server.url
        self.cluster = False

    def cli(self, *args):
        r = subprocess.run(["redis-cli", "-p", str(self.server.port), *args],
                           capture_output=True, text=True, timeout=20, check=True)
        return r.stdout

    def masters(self):
        return [None]

    def on(self, port, *args):
        return self.cli(*args)

    def stop(self):
        self.server.stop()


class Cluster:
    def __init__(self):
        self.c = RedisCluster(masters=3, replicas=0).start()
        self.url = self.c.url
        self.cluster = True

    def masters(self):
        return self.c.master_ports()

    def on(self, port, *args):
        return self.c.cli(port, *args)

    def stop(self):
        self.c.stop()


def crc16(data):
    """CRC16-XMODEM, Redis Cluster's key hash."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xffff
    return crc


def keys(redis, pattern):
    out = []
    for port in redis.masters():
        out += [k for k in redis.on(port, "--scan", "--pattern", pattern).split() if k]
    return out


def where(redis, key):
    """The master port that holds `key` (standalone: None)."""
    for port in redis.masters():
        if redis.on(port, "EXISTS", key).strip() == "1":
            return port
    return "missing"


def main():
    binary = sys.argv[1]
    redis = Cluster() if sys.argv[2:] == ["cluster"] else Standalone()
    sets = [f"akismet.max_checks={MAX_CHECKS}", "store.redis_timeout=500ms"]
    node = use_redis(AkismetDaemon(binary, backend="redis", sets=sets), redis.url)
    # In the file (the CLI reads the file, not --set): the cluster, and max_checks, which
    # gives `akismet show` the same layout of stored checks.
    with open(node.config, encoding="utf-8") as f:
        text = f.read()
    text = text.replace('backend = "redis"\n', 'backend = "redis"\ncluster = '
                        f'{"true" if redis.cluster else "false"}\n', 1)
    text = text.replace("[akismet]\n", f"[akismet]\nmax_checks = {MAX_CHECKS}\n", 1)
    with open(node.config, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        node.start()
        key = node.add_key()
        conn = node.conn()
        guids = []
        for i in range(CHECKS):
            status, hdrs, _ = node.post("/1.1/comment-check", dict(
                COMMENT, api_key=key, comment_content=f"{COMMENT['comment_content']} No. {i}."),
                conn=conn)
            if status != 200:
                check(False, f"check {i} answered {status}")
            guids.append(hdrs["x-akismet-guid"])
        deadline = time.time() + 10  # the last writes were sent before their answers
        while True:
            stored = keys(redis, "gf:a:c:*")
            if len(stored) == MAX_CHECKS or time.time() > deadline:
                break
            time.sleep(0.05)
        check(len(stored) == MAX_CHECKS,
              f"{len(stored)} stored checks in Redis after {CHECKS} checks (max_checks "
              f"{MAX_CHECKS})")
        buckets = {}
        for k in stored:
            rest = k[len("gf:a:c:"):]
            buckets.setdefault(rest[:5], []).append(rest[5:])
        check(len(buckets) == 16 and all(len(v) == 4 for v in buckets.values()),
              "16 buckets of 4 checks")
        # Exactly the newest 4 of each bucket (bucket = CRC16 of the GUID mod 16).
        expected = {}
        for g in guids:
            expected.setdefault("{c%02d}" % (crc16(g.encode()) % 16), []).append(g)
        check(all(sorted(buckets[t]) == sorted(expected[t][-4:]) for t in buckets),
              "each bucket keeps its newest 4 checks")
        for tag, kept in buckets.items():
            idx = f"gf:a:ci:{tag}"
            port = where(redis, idx)
            if any(where(redis, f"gf:a:c:{tag}{g}") != port for g in kept) or \
                    int(redis.on(port, "ZCARD", idx)) != 4:
                check(False, f"bucket {tag}: its checks and its index of 4 on one node")
        check(True, "each bucket's checks and its index of 4 entries on one node")
        shown = node.cli("akismet", "show", guids[-1])
        check(shown.returncode == 0, "greyflux akismet show finds the newest check "
                                     f"{shown.stderr.strip()}")
        gone = node.cli("akismet", "show", guids[0])
        check(gone.returncode != 0, "and not the first one")
        sizes = [int(redis.on(where(redis, f"gf:a:ci:{t}"), "MEMORY", "USAGE", f"gf:a:ci:{t}"))
                 for t in buckets]
        print(f"figure: index {sum(sizes) / len(stored):.0f} bytes per stored check "
              f"(MEMORY USAGE of 16 indexes of 4 entries)")

        for i in range(SUBMITS):
            status, _, body = node.post("/1.1/submit-ham", dict(
                COMMENT, api_key=key, comment_content=f"Feedback number {i} about the bread."),
                conn=conn)
            if status != 200:
                check(False, f"submit-ham {i}: {status} {body}")
        log = keys(redis, "gf:a:t:*")
        check(len(log) == MAX_CHECKS,
              f"{len(log)} training log records after {SUBMITS} submits (max_checks "
              f"{MAX_CHECKS})")
        seqs = sorted(int(k.rsplit(":", 1)[1], 16) for k in log)  # 16 hex digits
        check(seqs == list(range(SUBMITS - MAX_CHECKS + 1, SUBMITS + 1)),
              f"the newest {MAX_CHECKS} ({seqs[0]}..{seqs[-1]})")
        check(node.proc.poll() is None, "greyflux kept running")
    finally:
        code = node.stop()
        redis.stop()
    check(code == 0, "greyflux exits 0 on SIGTERM")
    print("PASS")


if __name__ == "__main__":
    main()
