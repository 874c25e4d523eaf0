"""`greyflux store copy` round trip without loss: LMDB -> Redis -> Redis Cluster -> LMDB.
  - a greyflux on LMDB records greylist triplets (and pooled-sender entries), an Akismet key and
    comment checks; it is stopped;
  - store copy LMDB -> a private redis-server, Redis -> a 3-master, 3-replica cluster
    (--to-cluster), cluster -> a new LMDB data directory (--from-cluster): each step prints
    progress lines and reports the same counts and digest, verified on its destination;
  - mdb_dump of the two LMDB environments (greylist and comment API) shows the same entries,
    byte for byte;
  - a greyflux on the copy passes a greylisted triplet's retry and verifies the copied key;
  - a copy into a store that already holds entries is refused (exit 1), nothing overwritten.
Usage: store_copy_test.py /path/to/greyflux"""
import os
import re
import subprocess
import sys
import tempfile

from redis_helpers import RedisServer, check  # noqa: I001 - first: puts the test helpers on sys.path
from gfakismet import COMMENT, AkismetDaemon
from gfdaemon import Conn, ask_until
from redis_cluster import RedisCluster

TRIPLETS = 300


def lmdb_names(daemon, data_dir):
    """Points the daemon's config at DATA_DIR/greyflux.lmdb and DATA_DIR/akismet.lmdb, the
    layout of lmdb:DATA_DIR."""
    with open(daemon.config, encoding="utf-8") as f:
        text = f.read()
    text = text.replace(f'path = "{daemon.tmp}/db"', f'path = "{data_dir}/greyflux.lmdb"')
    text = text.replace(f'store_path = "{daemon.tmp}/akismet"',
                        f'store_path = "{data_dir}/akismet.lmdb"')
    with open(daemon.config, "w", encoding="utf-8") as f:
        f.write(text + '[greylist]\ndelay = "2s"\n')
    return daemon


def copy(binary, src, dst, *flags):
    r = subprocess.run([binary, "store", "copy", "--from", src, "--to", dst, *flags],
                       capture_output=True, text=True, timeout=120)
    print(r.stdout, end="")
    return r


def report(out, what):
    """(read, copied, verified, digest) from a copy's final line for `what`."""
    m = re.search(what + r" done: (\d+) read, (\d+) copied, (\d+) skipped \(expiring\), "
                  r"verified (\d+) entries, digest ([0-9a-f]{32})", out)
    return (int(m[1]), int(m[2]), int(m[4]), m[5]) if m else None


def dump(env_dir):
    """The data lines of mdb_dump (the header holds sizes that may differ)."""
    out = subprocess.run(["mdb_dump", env_dir], capture_output=True, text=True, check=True).stdout
    return out.split("HEADER=END\n", 1)[1]


def main():
    binary = sys.argv[1]
    src_dir = tempfile.mkdtemp(prefix="gf-copy-src-")
    dst_dir = tempfile.mkdtemp(prefix="gf-copy-dst-")
    node = lmdb_names(AkismetDaemon(binary), src_dir)
    node.start()
    key = node.add_key()
    c = Conn(node.port, timeout=5)
    for i in range(TRIPLETS):
        r = c.ask(client_address=f"192.0.2.{i % 50 + 1}", client_name=f"mx{i % 7}.sender.example",
                  sender=f"user{i}@sender.example", recipient="rcpt@example.org",
                  instance=f"c{i}")
        assert r.startswith("action=DEFER"), r
    for i in range(20):
        node.post("/1.1/comment-check", dict(COMMENT, api_key=key, comment_content=f"hi {i}"))
    check(node.stop() == 0, "greyflux on LMDB recorded triplets, a key and checks, and stopped")

    redis = RedisServer().start()
    cluster = RedisCluster().start()
    try:
        r1 = copy(binary, f"lmdb:{src_dir}", redis.url)
        check(r1.returncode == 0, f"LMDB -> Redis exits 0 ({r1.stderr.strip()})")
        check(re.search(r"store copy: greylist \d+ read, \d+ copied \(\d+/s\)", r1.stdout),
              "progress lines with a rate")
        r2 = copy(binary, redis.url, cluster.url, "--to-cluster")
        check(r2.returncode == 0, f"Redis -> Redis Cluster exits 0 ({r2.stderr.strip()})")
        r3 = copy(binary, cluster.url, f"lmdb:{dst_dir}", "--from-cluster")
        check(r3.returncode == 0, f"Redis Cluster -> LMDB exits 0 ({r3.stderr.strip()})")
        for what in ("greylist", "comment API"):
            reps = [report(r.stdout, what) for r in (r1, r2, r3)]
            check(all(reps) and reps[0] == reps[1] == reps[2] and reps[0][0] == reps[0][1]
                  == reps[0][2], f"{what}: every step read, copied and verified the same "
                  f"{reps[0][0] if reps[0] else '?'} entries, digest "
                  f"{reps[0][3] if reps[0] else '?'}")
        check(report(r1.stdout, "greylist")[0] >= TRIPLETS,
              f"the greylist copy holds at least the {TRIPLETS} triplets")
        standalone = int(subprocess.run(["redis-cli", "-p", str(redis.port), "DBSIZE"],
                                        capture_output=True, text=True).stdout)
        check(cluster.dbsize() == standalone > TRIPLETS,
              f"the cluster's masters hold the {standalone} keys of the standalone Redis")
        for env in ("greyflux.lmdb", "akismet.lmdb"):
            a, b = dump(f"{src_dir}/{env}"), dump(f"{dst_dir}/{env}")
            check(a == b and a.count("\n") > 2,
                  f"{env}: mdb_dump of the original and the round-tripped copy are equal "
                  f"({a.count(chr(10)) // 2} entries)")

        again = copy(binary, f"lmdb:{src_dir}", redis.url)
        check(again.returncode == 1 and "already holds" in again.stderr,
              f"a copy into a non-empty store is refused: {again.stderr.strip()}")

        copied = lmdb_names(AkismetDaemon(binary), dst_dir)
        copied.start()
        try:
            c = Conn(copied.port, timeout=5)
            r = ask_until(c, lambda r: not r.startswith("action=DEFER"), timeout=15,
                          client_address="192.0.2.1", client_name="mx0.sender.example",
                          sender="user0@sender.example", recipient="rcpt@example.org",
                          instance="retry0")
            check(not r.startswith("action=DEFER"), f"the copy passes a greylisted retry: {r}")
            status, _, body = copied.post("/1.1/verify-key",
                                          {"key": key, "blog": "https://blog.example"})
            check(status == 200 and body == "valid", f"the copied key verifies: {body}")
        finally:
            copied.stop()
    finally:
        cluster.stop()
        redis.stop()
    print("PASS")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
