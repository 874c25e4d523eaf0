"""A Redis Cluster master failed over under load, with greyflux on backend "redis",
store.cluster = true (3 masters, 3 replicas made by redis_cluster.py on free loopback ports):
  - clients ask new triplets without pause while `CLUSTER FAILOVER` runs on the replica of the
    master that owns the load's slot; every request is answered, each answer is DEFER_IF_PERMIT
    (recorded) or the configured fail-open DUNNO, and the daemon's decisions.store-failure count
    equals the fail-open answers the clients saw;
  - greyflux follows the new master by itself (MOVED / slot map refresh) and never exits;
  - no lost write after recovery: every triplet answered DEFER_IF_PERMIT after the failover is in
    the cluster afterwards (counted on the masters), and its retry after the delay passes by its
    own recorded triplet (auto-whitelists off).
Usage: cluster_failover_test.py /path/to/greyflux"""
import subprocess
import sys
import threading
import time

from redis_helpers import ClientThreads, check  # noqa: I001 - first: puts helpers on sys.path
from gfdaemon import Conn, Daemon, ask_until
from redis_cluster import RedisCluster

CLIENTS = 4
NET = "198.51.100"  # one /24: every triplet of the load shares its slot (the net hash tag)


def letters(i):
    """i as letters: the greylist folds digit runs in a sender (VERP), so distinct senders must
    differ in letters."""
    out = ""
    while True:
        out = chr(ord("a") + i % 26) + out
        i = i // 26
        if i == 0:
            return out


class Load(ClientThreads):
    """CLIENTS connections asking one new triplet after another until stopped."""

    def __init__(self, port):
        self.port = port
        super().__init__()
        self.replies = []  # (sent_at, reply)
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(CLIENTS)]

    def run(self, n):
        try:
            c = Conn(self.port, timeout=5)
            i = 0
            while not self.stop.is_set():
                i += 1
                t0 = time.monotonic()
                r = c.ask(client_address=f"{NET}.{n + 1}",
                          sender=f"s{letters(n)}-{letters(i)}@load.example",
                          recipient="rcpt@example.org", instance=f"{n}-{i}")
                with self.lock:
                    self.replies.append((t0, r))
        except Exception as e:  # noqa: BLE001 - reported as a failure below
            self.errors.append(repr(e))


def owner_of(cluster, key):
    """(master port, its replica's port) for the slot of `key`."""
    slot = int(cluster.cli(cluster.ports[0], "CLUSTER", "KEYSLOT", key).strip())
    for p in cluster.master_ports():
        nodes = cluster.cli(p, "CLUSTER", "NODES")
        me = next(line for line in nodes.splitlines() if "myself" in line).split()
        for rng in me[8:]:
            lo, _, hi = rng.partition("-")
            if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                replica = next(int(line.split()[1].split(":")[1].split("@")[0])
                               for line in nodes.splitlines()
                               if line.split()[3] == me[0] and "slave" in line.split()[2])
                return p, replica
    raise RuntimeError("no master owns slot %d" % slot)


def triplet_keys(cluster, net):
    """Triplet keys of `net` on all masters (they share one slot: one master holds them)."""
    total = 0
    for p in cluster.master_ports():
        out = cluster.cli(p, "--scan", "--pattern", "gf:g:t:{" + net + "}*")
        total += len([line for line in out.splitlines() if line.strip()])
    return total


def main():
    binary = sys.argv[1]
    cluster = RedisCluster().start()
    node = Daemon(binary, backend="redis",
                  sets=["store.cluster=true", f"store.redis_url={cluster.url}",
                        "store.redis_timeout=200ms", "greylist.delay=2s",
                        # a retry passes by its own triplet only, so a lost one shows
                        "greylist.auto_whitelist_after=0",
                        "greylist.domain_auto_whitelist_after=0"])
    try:
        node.start()
        net = f"{NET}.0/24"
        master, replica = owner_of(cluster, "{" + net + "}")
        print(f"load slot on master {master}, failing over to replica {replica}")
        with Load(node.port) as load:
            time.sleep(0.5)  # load before the failover (a duration of load, not a settle wait)
            started = time.monotonic()
            cluster.cli(replica, "CLUSTER", "FAILOVER")
            deadline = time.time() + 30
            while time.time() < deadline and cluster.roles().get(replica) != "master":
                time.sleep(0.02)
            check(cluster.roles().get(replica) == "master"
                  and cluster.roles().get(master) == "slave",
                  f"replica {replica} took over from {master} "
                  f"in {time.monotonic() - started:.2f} s")
            cluster.wait_healthy()
            recovered = time.monotonic()
            # Load after the failover, until answers come from the new master again.
            deadline = recovered + 15
            resumed = False
            while time.monotonic() < deadline and not resumed:
                with load.lock:
                    resumed = sum(1 for t, r in load.replies if t > recovered
                                  and r.startswith("action=DEFER_IF_PERMIT")) >= 50
                time.sleep(0.02)
        check(not load.errors, f"no client saw an error or a closed connection {load.errors[:3]}")
        replies = load.replies
        fail_open = sum(1 for _, r in replies if r == "action=DUNNO")
        deferred = [r for _, r in replies if r.startswith("action=DEFER_IF_PERMIT")]
        check(len(replies) > 100, f"{len(replies)} requests answered under load")
        check(fail_open + len(deferred) == len(replies), "every answer is DEFER_IF_PERMIT or "
              f"DUNNO ({len(deferred)} deferred, {fail_open} fail-open)")
        check(resumed, "greylisting resumed on the new master by itself")
        stats = node.stats()
        check(stats.get("decisions.store-failure", 0) == fail_open,
              f"decisions.store-failure {stats.get('decisions.store-failure', 0)} equals the "
              f"{fail_open} fail-open answers the clients saw")
        print("redis stats:", {k: v for k, v in stats.items() if k.startswith("redis.")})
        check(stats.get("redis.cluster_map_refreshes", 0) >= 2,
              "the slot map was read again after the failover")

        # No lost write after recovery: new triplets, each answered DEFER_IF_PERMIT, are all in
        # the cluster, and each one's retry after the delay passes.
        net2 = "203.0.113"
        c = Conn(node.port, timeout=5)
        asked = []
        for i in range(40):
            r = c.ask(client_address=f"{net2}.7", sender=f"after{letters(i)}@load.example",
                      recipient="rcpt@example.org", instance=f"after-{i}")
            if r.startswith("action=DEFER_IF_PERMIT"):
                asked.append(i)
        check(len(asked) == 40, f"all 40 new triplets after recovery were recorded ({len(asked)})")
        deadline = time.time() + 10
        while time.time() < deadline and triplet_keys(cluster, f"{net2}.0/24") < 40:
            time.sleep(0.05)
        check(triplet_keys(cluster, f"{net2}.0/24") == 40, "the 40 triplets are in the cluster")
        passed = sum(1 for i in asked
                     if not ask_until(c, lambda r: not r.startswith("action=DEFER"), timeout=15,
                                      client_address=f"{net2}.7",
                                      sender=f"after{letters(i)}@load.example",
                                      recipient="rcpt@example.org",
                                      instance=f"after-r-{i}").startswith("action=DEFER"))
        check(passed == 40, f"each retry after the delay passes ({passed} of 40)")
        check(node.stats().get("decisions.triplet-passed") == 40,
              "by its own recorded triplet (decisions.triplet-passed 40)")
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
