#!/usr/bin/env python3
"""A quiet flux name keeps its verdict in the running daemon (issue 12), on shortened time.

`greyflux serve` with [flux] dnstap_socket, window 2s, idle_evict 4s, verdict_ttl 20s and an RPZ
rewritten every second. A Frame Streams sender written here (no Unbound needed) streams dnstap
client responses stamped with the real time:
  1. quiet-flux.test answers from 10 networks (3 rounds, TTL 60): listed in the RPZ, the API says
     flux, a policy request from one of its addresses is deferred as a flux agent;
  2. silence for that name for more than window + idle_evict while stable.test keeps being
     answered (the tracker's clock moves on, prunes and evicts it): the tracker has forgotten the
     name (API: tracked false) yet the RPZ still lists it, the API holds the verdict with
     last_seen_fluxing = its last flux answer, and its agents are still deferred as flux agents;
  3. verdict_ttl after the last flux answer the verdict expires: gone from the RPZ, API 404, the
     agent is greylisted like any new client (no fast-flux reason).
Usage: quiet_serve_test.py GREYFLUX
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fluxlib import free_port, wait_for  # noqa: E402

# Tests run as root on CI: keep root explicitly (a root start without daemon.user refuses).
ROOT = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []

WINDOW_S, IDLE_S, VERDICT_TTL_S = 2, 4, 20
CONTENT_TYPE = b"protobuf:dnstap.Dnstap"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    return key + (varint(payload) if wire == 0 else varint(len(payload)) + payload)


def dns_response(qid, name, addrs, ttl):
    q = b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    msg = struct.pack(">HHHHHH", qid, 0x8180, 1, len(addrs), 0, 0) + q + struct.pack(">HH", 1, 1)
    for a in addrs:
        msg += struct.pack(">HHHIH", 0xC00C, 1, 1, ttl, 4) + socket.inet_aton(a)
    return msg


def dnstap_frame(wire, when):
    # Dnstap{type=MESSAGE, message=Message{type=CLIENT_RESPONSE, response_time_sec, response}}
    m = field(1, 0, 6) + field(12, 0, int(when)) + field(14, 2, wire)
    return field(15, 0, 1) + field(14, 2, m)


class DnstapSender:
    """A bidirectional Frame Streams writer (READY, ACCEPT, START, data frames, STOP, FINISH)."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(10)
        self.s.connect(path)
        self.control(4, CONTENT_TYPE)  # READY
        assert self.read_control() == 1, "no ACCEPT from the daemon"
        self.control(2, CONTENT_TYPE)  # START
        self.qid = 0

    def control(self, ctype, content=None):
        body = struct.pack(">I", ctype)
        if content is not None:
            body += struct.pack(">II", 1, len(content)) + content
        self.s.sendall(struct.pack(">II", 0, len(body)) + body)

    def read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.s.recv(n - len(buf))
            assert chunk, "daemon closed the dnstap connection"
            buf += chunk
        return buf

    def read_control(self):
        escape, length = struct.unpack(">II", self.read_exact(8))
        assert escape == 0
        return struct.unpack(">I", self.read_exact(length)[:4])[0]

    def answer(self, name, addrs, ttl):
        self.qid = (self.qid + 1) & 0xFFFF
        frame = dnstap_frame(dns_response(self.qid, name, addrs, ttl), time.time())
        self.s.sendall(struct.pack(">I", len(frame)) + frame)

    def close(self):
        self.control(3)  # STOP
        self.read_control()  # FINISH
        self.s.close()


def main():
    greyflux = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="gf-flux-quiet-serve-")
    daemon = None
    try:
        http_port, policy_port, spamd_port = free_port(), free_port(), free_port()
        sock, rpz = os.path.join(tmp, "dnstap.sock"), os.path.join(tmp, "live.rpz")
        cfg = os.path.join(tmp, "greyflux.toml")
        open(cfg, "w").write(f"""[daemon]
data_dir = "{tmp}"
[store]
backend = "memory"
[policy]
listen = ["127.0.0.1:{policy_port}"]
[http]
listen = ["127.0.0.1:{http_port}"]
[akismet]
store_path = "{tmp}/akismet.lmdb"
[spamd]
listen = ["127.0.0.1:{spamd_port}"]
model = "{tmp}/mail.model"
[admin]
socket = "{tmp}/admin.sock"
[flux]
allowlist = ""
dnstap_socket = "{sock}"
rpz_path = "{rpz}"
rpz_interval = "1s"
window = "{WINDOW_S}s"
idle_evict = "{IDLE_S}s"
verdict_ttl = "{VERDICT_TTL_S}s"
""")
        err_path = os.path.join(tmp, "serve.err")
        daemon = subprocess.Popen([greyflux, "serve", "--config", cfg, *ROOT],
                                  stdout=subprocess.DEVNULL, stderr=open(err_path, "w"))
        wait_for(lambda: daemon.poll() is None and os.path.exists(sock), 15, "the dnstap socket")
        tap = DnstapSender(sock)

        def rpz_text():
            return open(rpz).read() if os.path.exists(rpz) else ""

        def listed(name):
            return f"\n{name} CNAME .\n" in rpz_text()

        def get(name):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/v1/flux/{name}",
                                            timeout=10) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        def policy_reply(client):
            req = ("request=smtpd_access_policy\nprotocol_state=RCPT\n"
                   f"client_address={client}\nclient_name=unknown\n"
                   "sender=a@sender.test\nrecipient=b@example.test\ninstance=i1\n\n")
            with socket.create_connection(("127.0.0.1", policy_port), timeout=10) as c:
                c.sendall(req.encode())
                reply = b""
                while not reply.endswith(b"\n\n"):
                    chunk = c.recv(4096)
                    assert chunk, reply
                    reply += chunk
            return reply.decode()

        # 1. Active: three rounds of ten agents on ten /16s, TTL 60.
        agents = []
        for r in range(3):
            ips = [f"10.{10 * r + k + 1}.{k}.{r + 7}" for k in range(10)]
            agents += ips
            tap.answer("quiet-flux.test", ips, 60)
            tap.answer("stable.test", ["192.0.2.20"], 3600)
        last_flux = int(time.time())
        wait_for(lambda: listed("quiet-flux.test"), 15, "quiet-flux.test in the RPZ")
        status, body = get("quiet-flux.test")
        assert status == 200 and body["flux"] and body["features"]["unique_ips"] == 30, body
        reply = policy_reply(agents[0])
        assert reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" in reply, reply
        print(f"active: listed, API flux (30 addresses), agent {agents[0]} deferred as flux agent")

        # 2. Quiet for longer than window + idle_evict; other names keep the tracker's clock going.
        quiet_until = last_flux + WINDOW_S + IDLE_S + 3
        while time.time() < quiet_until:
            tap.answer("stable.test", ["192.0.2.20"], 3600)
            time.sleep(0.25)
        wait_for(lambda: get("quiet-flux.test")[1].get("tracked") is False, 10,
                 "the tracker to evict the quiet name")
        silence = int(time.time()) - last_flux
        assert silence > WINDOW_S + IDLE_S, silence
        assert time.time() < last_flux + VERDICT_TTL_S - 2, "the machine is too slow for this test"
        status, body = get("quiet-flux.test")
        assert status == 200 and body["flux"] and body["tracked"] is False, body
        held = body["held"]
        assert abs(held["last_seen_fluxing"] - last_flux) <= 1, (held, last_flux)
        assert held["expires"] == held["last_seen_fluxing"] + VERDICT_TTL_S, held
        assert held["agents"] >= 10, held
        rewrite_after = time.time()
        wait_for(lambda: os.path.getmtime(rpz) > rewrite_after, 10, "an RPZ rewrite")
        assert listed("quiet-flux.test"), rpz_text()
        reply = policy_reply(agents[-1])
        assert reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" in reply, reply
        status, body = get("stable.test")
        assert status == 200 and not body["flux"], body
        print(f"quiet {silence}s (window {WINDOW_S}s, idle_evict {IDLE_S}s): forgotten by the "
              f"tracker, still in the RPZ, API held last_seen_fluxing={held['last_seen_fluxing']}, "
              f"agent {agents[-1]} still deferred as a flux agent")

        # 3. verdict_ttl after the last flux answer the verdict is gone everywhere.
        wait_for(lambda: time.time() > held["expires"] + 1 and not listed("quiet-flux.test"),
                 VERDICT_TTL_S + 10, "the held verdict to expire from the RPZ")
        status, body = get("quiet-flux.test")
        assert status == 404 and not body["flux"], (status, body)
        reply = policy_reply(agents[1])
        assert reply.startswith("action=DEFER_IF_PERMIT") and "fast-flux" not in reply, reply
        print(f"expired after verdict_ttl {VERDICT_TTL_S}s: out of the RPZ, API 404, "
              f"agent {agents[1]} greylisted as a new client")
        tap.close()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=20) == 0, open(err_path).read()
        daemon = None
        print("1 passed, 0 failed")
        return 0
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                daemon.kill()
        if daemon is not None:
            sys.stderr.write(open(os.path.join(tmp, "serve.err")).read()[-3000:])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
