#!/usr/bin/env python3
"""Flux state shared on Redis (flux.shared = true): three greyflux instances on one private
redis-server (or, with the argument `cluster`, a 3-master Redis Cluster), each fed a disjoint
third of a flux name's answers over its own dnstap socket (a Frame Streams sender written in the
test, as tests/integration/flux/quiet_serve_test.py does):
  - a control instance without flux.shared that sees one third does not flag the name, and one
    that sees all of them does;
  - every shared instance flags it: RPZ, GET /api/v1/flux/NAME (flux true, the whole name's six
    addresses, the same composite score as the instance that saw everything, an "rpz" rule), and
    its greylist defers an agent only another instance saw as a fast-flux agent;
  - a fourth shared instance that never saw the name lists it too (the shared flagged list,
    judged there on the merged view): RPZ, API flux with the held verdict's 6 agents, and its
    greylist defers an agent as a fast-flux agent;
  - a benign round robin split the same way stays benign everywhere, with the same score as the
    instance that saw all of it.
Usage: shared_flux_test.py GREYFLUX [cluster]"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import redis_helpers  # noqa: F401,I001 - first: puts the test helpers on sys.path
from gfdaemon import free_port
from redis_cluster import RedisCluster
from redis_helpers import RedisServer, check

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "flux"))
from fluxlib import wait_for  # noqa: E402
from quiet_serve_test import DnstapSender  # noqa: E402

ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []
FLUX = "split-flux.test"
BENIGN = "www.benign.test"


class Node:
    """One `greyflux serve` with a dnstap socket, an RPZ rewritten every second and the API."""

    def __init__(self, binary, name, redis_url=None, cluster=False):
        self.name = name
        self.tmp = tempfile.mkdtemp(prefix=f"gf-shared-flux-{name}-")
        self.http, self.policy, self.spamd = free_port(), free_port(), free_port()
        self.sock = os.path.join(self.tmp, "dnstap.sock")
        self.rpz = os.path.join(self.tmp, "live.rpz")
        store = 'backend = "memory"\n'
        flux = ""
        if redis_url:
            store += f'redis_url = "{redis_url}"\ncluster = {"true" if cluster else "false"}\n'
            flux = "shared = true\n"
        cfg = os.path.join(self.tmp, "greyflux.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(f"""[daemon]
data_dir = "{self.tmp}"
[store]
{store}[policy]
listen = ["127.0.0.1:{self.policy}"]
[http]
listen = ["127.0.0.1:{self.http}"]
[akismet]
store_path = "{self.tmp}/akismet.lmdb"
[spamd]
listen = ["127.0.0.1:{self.spamd}"]
model = "{self.tmp}/mail.model"
[admin]
socket = "{self.tmp}/admin.sock"
[flux]
allowlist = ""
dnstap_socket = "{self.sock}"
rpz_path = "{self.rpz}"
rpz_interval = "1s"
{flux}""")
        self.err = os.path.join(self.tmp, "serve.err")
        self.proc = subprocess.Popen([binary, "serve", "--config", cfg, *ROOT],
                                     stdout=subprocess.DEVNULL,
                                     stderr=open(self.err, "w", encoding="utf-8"))
        wait_for(lambda: self.proc.poll() is not None or os.path.exists(self.sock), 15,
                 f"{name}'s dnstap socket")
        if self.proc.poll() is not None:
            raise SystemExit(f"FAIL: {name} exited: {open(self.err).read()[-2000:]}")
        self.tap = DnstapSender(self.sock)

    def listed(self, name):
        text = open(self.rpz).read() if os.path.exists(self.rpz) else ""
        return f"\n{name} CNAME .\n" in text

    def get(self, name):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}/api/v1/flux/{name}",
                                        timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def policy_reply(self, client):
        req = ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               f"client_address={client}\nclient_name=unknown\n"
               "sender=a@sender.test\nrecipient=b@example.test\ninstance=i1\n\n")
        with socket.create_connection(("127.0.0.1", self.policy), timeout=10) as c:
            c.sendall(req.encode())
            reply = b""
            while not reply.endswith(b"\n\n"):
                chunk = c.recv(4096)
                assert chunk, reply
                reply += chunk
        return reply.decode()

    def wait_rewrite(self):
        after = time.time()
        wait_for(lambda: os.path.exists(self.rpz) and os.path.getmtime(self.rpz) > after, 15,
                 f"an RPZ rewrite at {self.name}")

    def stop(self):
        code = None
        if self.proc.poll() is None:
            try:
                self.tap.close()
            except (OSError, AssertionError):
                pass
            self.proc.send_signal(signal.SIGTERM)
            try:
                code = self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if code != 0:
            sys.stderr.write(f"--- {self.name} stderr\n" + open(self.err).read()[-3000:])
        shutil.rmtree(self.tmp, ignore_errors=True)
        return code


def main():
    binary = sys.argv[1]
    use_cluster = len(sys.argv) > 2 and sys.argv[2] == "cluster"
    redis = RedisCluster(masters=3, replicas=0).start() if use_cluster else RedisServer().start()
    nodes = []
    try:
        shared = [Node(binary, f"node{i}", redis.url, use_cluster) for i in range(3)]
        whole, third = Node(binary, "whole"), Node(binary, "third")
        blind = Node(binary, "node3", redis.url, use_cluster)  # never sees the flux name
        nodes = shared + [whole, third, blind]
        # Six answers of one agent each over six /16s, TTL 60; each shared node gets two.
        agents = [f"10.{20 + i}.1.5" for i in range(6)]
        for i, a in enumerate(agents):
            shared[i % 3].tap.answer(FLUX, [a], 60)
            whole.tap.answer(FLUX, [a], 60)
            if i % 3 == 0:
                third.tap.answer(FLUX, [a], 60)
        # A round robin: 2 of 4 servers in one /24 per answer, TTL 3600, 12 answers.
        for i in range(12):
            ips = [f"192.0.2.{10 + i % 4}", f"192.0.2.{10 + (i + 1) % 4}"]
            shared[i % 3].tap.answer(BENIGN, ips, 3600)
            whole.tap.answer(BENIGN, ips, 3600)
            if i % 3 == 0:
                third.tap.answer(BENIGN, ips, 3600)
        blind.tap.answer("only-here.test", ["192.0.2.99"], 3600)

        wait_for(lambda: whole.listed(FLUX), 20, "the whole-view instance to flag the name")
        status, all_view = whole.get(FLUX)
        check(status == 200 and all_view["flux"], "one instance that sees all six answers flags "
              f"{FLUX} (score {all_view['scores']['composite']['score']})")
        third.wait_rewrite()
        third.wait_rewrite()
        status, part = third.get(FLUX)
        check(status == 200 and not part["flux"] and not third.listed(FLUX),
              f"an instance that sees a third alone does not (score "
              f"{part['scores']['composite']['score']})")

        for n in shared:
            wait_for(lambda n=n: n.listed(FLUX), 30, f"{FLUX} in {n.name}'s RPZ")
        for i, n in enumerate(shared):
            status, body = n.get(FLUX)
            check(status == 200 and body["flux"]
                  and body["features"]["unique_ips"] == 6
                  and body["scores"]["composite"]["score"]
                  == all_view["scores"]["composite"]["score"]
                  and body["rpz"] is not None,
                  f"{n.name} (saw 2 of 6 answers) flags {FLUX}: RPZ, API flux with 6 addresses "
                  f"and the whole-view score {body['scores']['composite']['score']}")
            other = agents[(i + 1) % 3]  # an agent only the next node saw
            # The agent index is rebuilt from the merged view on the node's next pass, which can
            # come after its RPZ lists the name: wait for it rather than ask once.
            def defers(n=n, other=other):
                reply = n.policy_reply(other)
                return reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" in reply
            wait_for(defers, 20,
                     f"{n.name} defers {other}, seen only by another node, as a flux agent")
            print(f"ok: {n.name} defers {other}, seen only by another node, as a flux agent")

        wait_for(lambda: blind.listed(FLUX), 30, f"{FLUX} in node3's RPZ")
        # Eventually consistent: node3 may first judge a view that lacks the answers another
        # node has not published yet; it judges again in the next passes.
        wait_for(lambda: blind.get(FLUX)[1].get("held", {}).get("agents") == 6, 20,
                 "node3's held verdict to cover all six agents")
        status, body = blind.get(FLUX)
        check(status == 200 and body["flux"] and body.get("tracked") is False
              and body["held"]["agents"] == 6,
              f"node3, which never saw {FLUX}, lists it and holds its verdict with the 6 agents "
              f"(score {body['held']['score']})")
        check(body["held"]["score"] == all_view["scores"]["composite"]["score"],
              "node3's held score is the whole-view score")
        reply = blind.policy_reply(agents[4])
        check(reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" in reply,
              f"node3 defers {agents[4]} as a flux agent")
        check(not blind.listed(BENIGN), f"node3 does not list {BENIGN}")

        status, benign_all = whole.get(BENIGN)
        check(status == 200 and not benign_all["flux"], f"{BENIGN} is benign to the whole view")
        for n in shared:
            n.wait_rewrite()
            status, body = n.get(BENIGN)
            check(status == 200 and not body["flux"] and not n.listed(BENIGN)
                  and body["features"]["responses"] == 12
                  and body["scores"]["composite"]["score"]
                  == benign_all["scores"]["composite"]["score"],
                  f"{n.name}: {BENIGN} split the same way stays benign with the whole-view score "
                  f"{body['scores']['composite']['score']} over all 12 answers")
        codes = [n.stop() for n in nodes]
        nodes = []
        check(codes == [0] * 6, "every instance exits 0 on SIGTERM")
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
