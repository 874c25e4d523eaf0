#!/usr/bin/env python3
"""Flux state shared on Redis (flux.shared = true) while Redis is down and after it returns:
three shared greyflux instances on one private redis-server, which is killed (SIGKILL) before
any of them sees the flux name; then each is fed a disjoint third of the name's answers over its
own dnstap socket (as in shared_flux_test.py), and one of them all answers of a second name.
  - while Redis is down: each instance keeps its observations locally and keeps serving: the
    API answers for the split name from the local third (2 addresses, not flagged, as a lone
    instance that saw a third judges it), the instance that saw all of the second name flags it
    (RPZ and API) on its own, the policy server answers, and /metrics counts the passes judged
    locally (greyflux_flux_shared_failures_total);
  - once redis-server is back on the same port (empty: it keeps nothing), the observations made
    during the outage are published and merged: every instance flags the split name with all six
    addresses and the score of a control instance (no Redis) that saw every answer.
Usage: shared_flux_outage_test.py GREYFLUX"""
import subprocess
import sys
import time
import urllib.request

import redis_helpers  # noqa: F401,I001 - first: puts the test helpers on sys.path
from redis_helpers import RedisServer
from shared_flux_test import Node, check, wait_for

FLUX = "split-flux.test"
LOCAL = "whole-flux.test"


def shared_failures(node):
    """greyflux_flux_shared_failures_total from the node's /metrics."""
    with urllib.request.urlopen(f"http://127.0.0.1:{node.http}/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("greyflux_flux_shared_failures_total "):
                return float(line.split()[1])
    return None


def main():
    binary = sys.argv[1]
    redis = RedisServer().start()
    nodes = []
    try:
        shared = [Node(binary, f"node{i}", redis.url) for i in range(3)]
        whole = Node(binary, "whole")
        nodes = shared + [whole]
        redis.kill()
        down_at = time.monotonic()
        # Six answers of one agent each over six /16s, TTL 60; each shared node gets two.
        agents = [f"10.{20 + i}.1.5" for i in range(6)]
        for i, a in enumerate(agents):
            shared[i % 3].tap.answer(FLUX, [a], 60)
            whole.tap.answer(FLUX, [a], 60)
            shared[0].tap.answer(LOCAL, [f"10.{40 + i}.1.5"], 60)
            whole.tap.answer(LOCAL, [f"10.{40 + i}.1.5"], 60)
        wait_for(lambda: whole.listed(FLUX) and whole.listed(LOCAL), 20,
                 "the control instance to flag both names")
        _, all_view = whole.get(FLUX)

        wait_for(lambda: shared[0].listed(LOCAL), 20, f"{LOCAL} in node0's RPZ with Redis down")
        status, body = shared[0].get(LOCAL)
        check(status == 200 and body["flux"] and body["features"]["unique_ips"] == 6,
              f"Redis down: node0, which saw all of {LOCAL}, flags it on its own (RPZ, API)")
        for n in shared:
            n.wait_rewrite()
            status, body = n.get(FLUX)
            check(status == 200 and not body["flux"] and body["features"]["unique_ips"] == 2
                  and not n.listed(FLUX),
                  f"Redis down: {n.name} answers for {FLUX} from its own third (2 addresses, "
                  "not flagged)")
            t0 = time.monotonic()
            reply = n.policy_reply("192.0.2.77")
            check(reply.startswith("action="), f"Redis down: {n.name}'s policy server answers "
                  f"({reply.split()[0]}, {(time.monotonic() - t0) * 1000:.0f} ms)")
        failures = [shared_failures(n) for n in shared]
        check(all(f is not None and f > 0 for f in failures),
              f"Redis down: failed shared passes counted ({failures})")
        redis.start()
        print(f"redis-server back after {time.monotonic() - down_at:.1f} s")

        for n in shared:
            wait_for(lambda n=n: n.listed(FLUX), 30, f"{FLUX} in {n.name}'s RPZ after Redis came "
                     "back")
        for n in shared:
            status, body = n.get(FLUX)
            check(status == 200 and body["flux"] and body["features"]["unique_ips"] == 6
                  and body["scores"]["composite"]["score"]
                  == all_view["scores"]["composite"]["score"],
                  f"Redis back: {n.name} flags {FLUX} from the merged outage observations (6 "
                  f"addresses, the whole-view score {body['scores']['composite']['score']})")
        codes = [n.stop() for n in nodes]
        nodes = []
        check(codes == [0] * 4, "every instance exits 0 on SIGTERM")
    finally:
        for n in nodes:
            n.stop()
        redis.stop()
    print("1 passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except subprocess.TimeoutExpired as e:
        raise SystemExit(f"FAIL: {e}")
