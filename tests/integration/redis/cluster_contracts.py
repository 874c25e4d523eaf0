"""The Store and KvStore contract suites against a Redis Cluster: makes a 3-master, 3-replica
cluster on free loopback ports (redis_cluster.py), runs the suites' RedisCluster instances of
gf_unit_tests in one process against it (GF_TEST_REDIS_CLUSTER names the nodes), stops the
cluster by PID. Exits with gf_unit_tests' status.
Usage: cluster_contracts.py /path/to/gf_unit_tests"""
import os
import subprocess
import sys

from redis_cluster import RedisCluster


def listed(tests, pattern):
    out = subprocess.run([tests, f"--gtest_filter={pattern}", "--gtest_list_tests"],
                         capture_output=True, text=True, check=True).stdout
    return sum(1 for line in out.splitlines() if line.startswith("  "))


def main():
    tests = sys.argv[1]
    with RedisCluster() as cluster:
        env = dict(os.environ, GF_TEST_REDIS_CLUSTER=",".join(map(str, cluster.ports)))
        r = subprocess.run([tests, "--gtest_filter=*/RedisCluster.*", "--gtest_brief=1"],
                           env=env, timeout=300)
        count = listed(tests, "*/RedisCluster.*")
        print(f"{count} contract tests against the cluster {cluster.ports}")
        if count == 0 or count != listed(tests, "*/Redis.*"):
            print("FAIL: the cluster runs another number of contract tests than standalone Redis")
            sys.exit(1)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
