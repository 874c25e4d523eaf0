"""A Redis Cluster slot migrated under load (ASK redirects), with greyflux on backend "redis",
store.cluster = true (3 masters, 3 replicas made by redis_cluster.py on free loopback ports):
  - clients ask new triplets without pause, all in one /24 and so one slot (the network hash
    tag); the slot is put in MIGRATING (source) / IMPORTING (destination) state and its keys are
    moved with MIGRATE in small batches while the load runs, then the slot is given to the
    destination with CLUSTER SETSLOT ... NODE;
  - while migrating, a new triplet's key is not on the source, which answers ASK: greyflux sends
    ASKING + the command to the destination; `greyflux stats` counts them
    (redis.cluster_ask_redirects > 0 during the migration);
  - every request is answered, each answer DEFER_IF_PERMIT or the configured fail-open DUNNO,
    and decisions.store-failure equals the fail-open answers the clients saw;
  - no write is lost: every triplet answered DEFER_IF_PERMIT is on the destination afterwards,
    none is left on the source, and greyflux follows the new owner (MOVED / map refresh).
Usage: cluster_ask_test.py /path/to/greyflux"""
import subprocess
import sys
import time

import redis_helpers  # noqa: F401,I001 - first: puts the test helpers on sys.path
from cluster_failover_test import NET, Load, check, owner_of
from gfdaemon import Daemon
from redis_cluster import RedisCluster

MIGRATING_FOR = 2.0  # seconds of load while the slot is half moved


def slot_keys(cluster, port, slot):
    out = cluster.cli(port, "CLUSTER", "COUNTKEYSINSLOT", str(slot)).strip()
    return int(out)


def move_batch(cluster, src, dst, slot):
    """MIGRATEs up to 100 keys of `slot` from src to dst; how many it moved."""
    keys = [k for k in cluster.cli(src, "CLUSTER", "GETKEYSINSLOT", str(slot), "100").splitlines()
            if k.strip()]
    if keys:
        out = cluster.cli(src, "MIGRATE", "127.0.0.1", str(dst), "", "0", "5000", "KEYS", *keys)
        if out.strip() not in ("OK", "NOKEY"):
            raise RuntimeError("MIGRATE: " + out)
    return len(keys)


def main():
    binary = sys.argv[1]
    cluster = RedisCluster().start()
    node = Daemon(binary, backend="redis",
                  sets=["store.cluster=true", f"store.redis_url={cluster.url}",
                        "store.redis_timeout=200ms", "greylist.delay=1h"])
    try:
        node.start()
        net = f"{NET}.0/24"
        tag = "{" + net + "}"
        slot = int(cluster.cli(cluster.ports[0], "CLUSTER", "KEYSLOT", tag).strip())
        src, _ = owner_of(cluster, tag)
        dst = next(p for p in cluster.master_ports() if p != src)
        src_id = cluster.cli(src, "CLUSTER", "MYID").strip()
        dst_id = cluster.cli(dst, "CLUSTER", "MYID").strip()
        print(f"slot {slot}: migrating from {src} to {dst}")
        with Load(node.port) as load:
            deadline = time.time() + 10
            while time.time() < deadline and slot_keys(cluster, src, slot) < 200:
                time.sleep(0.02)  # load recorded on the source before the migration starts
            check(slot_keys(cluster, src, slot) >= 200, "the source holds the load's triplets")
            cluster.cli(dst, "CLUSTER", "SETSLOT", str(slot), "IMPORTING", src_id)
            cluster.cli(src, "CLUSTER", "SETSLOT", str(slot), "MIGRATING", dst_id)
            started = time.monotonic()
            moved = 0
            while time.monotonic() - started < MIGRATING_FOR:
                moved += move_batch(cluster, src, dst, slot)
                time.sleep(0.05)  # small batches spread over the migration, as redis-cli does
            mid = node.stats()
            while (n := move_batch(cluster, src, dst, slot)) > 0:
                moved += n
            for p in [dst, src] + [m for m in cluster.master_ports() if m not in (src, dst)]:
                cluster.cli(p, "CLUSTER", "SETSLOT", str(slot), "NODE", dst_id)
            finished = time.monotonic()
            print(f"moved {moved} keys in {finished - started:.2f} s")
            # Load after the migration, until answers come from the new owner.
            deadline = finished + 15
            resumed = False
            while time.monotonic() < deadline and not resumed:
                with load.lock:
                    resumed = sum(1 for t, r in load.replies if t > finished
                                  and r.startswith("action=DEFER_IF_PERMIT")) >= 50
                time.sleep(0.02)
        print("redis stats during the migration:",
              {k: v for k, v in mid.items() if k.startswith("redis.")})
        check(mid.get("redis.cluster_ask_redirects", 0) > 0,
              f"ASK redirects followed while migrating ({mid.get('redis.cluster_ask_redirects')})")
        check(not load.errors, f"no client saw an error or a closed connection {load.errors[:3]}")
        replies = load.replies
        during = sum(1 for t, _ in replies if started <= t <= finished)
        fail_open = sum(1 for _, r in replies if r == "action=DUNNO")
        deferred = sum(1 for _, r in replies if r.startswith("action=DEFER_IF_PERMIT"))
        check(during > 50, f"{during} requests answered during the migration "
              f"({len(replies)} in all)")
        check(fail_open + deferred == len(replies), "every answer is DEFER_IF_PERMIT or DUNNO "
              f"({deferred} deferred, {fail_open} fail-open)")
        check(resumed, "greylisting went on at the slot's new owner")
        stats = node.stats()
        print("redis stats after:", {k: v for k, v in stats.items() if k.startswith("redis.")})
        check(stats.get("decisions.store-failure", 0) == fail_open,
              f"decisions.store-failure {stats.get('decisions.store-failure', 0)} equals the "
              f"{fail_open} fail-open answers the clients saw")
        check(stats.get("redis.write_failures", 0) == 0, "no write failed")
        # Every recorded triplet is on the destination (each load request is a new triplet).
        deadline = time.time() + 10
        while time.time() < deadline and slot_keys(cluster, dst, slot) < deferred:
            time.sleep(0.05)
        check(slot_keys(cluster, dst, slot) == deferred,
              f"the {deferred} recorded triplets are all on the new owner "
              f"({slot_keys(cluster, dst, slot)})")
        check(slot_keys(cluster, src, slot) == 0, "none is left on the old owner")
        check(node.proc.poll() is None, "greyflux kept running")
    finally:
        code = node.stop()
        cluster.stop()
    check(code == 0, "greyflux exits 0 on SIGTERM")
    print("PASS")


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as e:
        raise SystemExit(f"FAIL: {e}")
