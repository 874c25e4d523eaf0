#!/usr/bin/env python3
"""Redis memory and CPU per item, loaded through greyflux itself, for the sizing estimate in
docs/redis.md. A private redis-server on a free loopback port and one `greyflux serve` on
backend "redis" with flux.shared = true; three phases, each measured with INFO memory
(used_memory, before and after), DBSIZE and MEMORY USAGE of sampled keys:
  triplets  N new greylist triplets (policy requests: gf_policy_load with --load, else a
            sequential client; a triplet key each, a pooled-sender key too for named clients),
            plus Redis CPU (INFO cpu), commands and bytes in (INFO stats) per decision;
  checks    N comment-checks through the Akismet API (one stored check each);
  flux      N names over dnstap, published by the flux pass: benign names (one answer of two
            addresses), flux names (six answers of five agents each, 30 addresses) and flux
            names at the per-name cap (128 answers of 16 agents: 2,048 addresses).
History rows are off (history.persist = false) so that only these items are counted.
Every server it starts is stopped by PID. Loopback only.
Usage: bench/redis_sizing.py build/release/greyflux [--load build/release/bench/gf_policy_load]
       [--triplets N] [--checks N] [--benign N] [--flux N] [--big N]"""
import argparse
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration", "flux"))
from quiet_serve_test import DnstapSender  # noqa: E402


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          timeout=60, check=True).stdout


def info(port, section):
    out = {}
    for line in cli(port, "INFO", section).splitlines():
        if ":" in line:
            k, v = line.strip().split(":", 1)
            out[k] = v
    return out


def snapshot(port):
    mem, cpu, st = info(port, "memory"), info(port, "cpu"), info(port, "stats")
    return {"used": int(mem["used_memory"]), "keys": int(cli(port, "DBSIZE").strip()),
            "cpu": float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"]),
            "cmds": int(st["total_commands_processed"]),
            "bytes_in": int(st["total_net_input_bytes"])}


def sample_usage(port, pattern, n=500):
    """Mean MEMORY USAGE (SAMPLES 0: every element) of up to n keys matching pattern."""
    keys = [k for k in cli(port, "--scan", "--pattern", pattern).splitlines() if k][:n]
    if not keys:
        return 0.0, 0
    script = "".join(f'MEMORY USAGE "{k}" SAMPLES 0\n' for k in keys)
    out = subprocess.run(["redis-cli", "-p", str(port)], input=script, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    sizes = [int(x) for x in out if x.isdigit()]
    return sum(sizes) / len(sizes), len(sizes)


def kinds(port):
    """Keys by kind (the prefix up to the third ':')."""
    out = {}
    for k in cli(port, "--scan").splitlines():
        kind = ":".join(k.split(":")[:3])
        out[kind] = out.get(kind, 0) + 1
    return out


def report(what, n, before, after, extra=""):
    used = after["used"] - before["used"]
    keys = after["keys"] - before["keys"]
    cpu_us = (after["cpu"] - before["cpu"]) * 1e6 / n
    print(f"RESULT {what}: n={n} keys={keys} used_memory_delta={used} "
          f"bytes_per_item={used / n:.0f} redis_cpu_us_per_item={cpu_us:.1f}{extra}", flush=True)


def policy_phase(port, gf_port, n, load=None):
    before = snapshot(port)
    t0 = time.monotonic()
    if load:
        # gf_policy_load: 16 connections, closed loop, new triplets from named and unnamed
        # clients (a named one also writes the pooled-sender key), as bench/redis_policy_load.sh.
        out = subprocess.run([load, "--target", f"127.0.0.1:{gf_port}", "--connections", "16",
                              "--mode", "new", "--requests", str(n)], capture_output=True,
                             text=True, timeout=600, check=True).stdout
        print("gf_policy_load:", out.strip(), flush=True)
        n = int(dict(w.split("=", 1) for w in out.split() if "=" in w)["requests"])
    else:
        sequential_triplets(gf_port, n)
    took = time.monotonic() - t0
    after = snapshot(port)
    cpu_us = (after["cpu"] - before["cpu"]) * 1e6 / n
    report("triplets", n, before, after,
           f" redis_cpu_us_per_decision={cpu_us:.1f} "
           f"redis_commands_per_decision={(after['cmds'] - before['cmds']) / n:.2f} "
           f"bytes_to_redis_per_decision={(after['bytes_in'] - before['bytes_in']) / n:.0f} "
           f"({'gf_policy_load' if load else 'sequential client'}, {n / took:.0f}/s)")
    kinds_now = kinds(port)
    print("keys by kind:", kinds_now, flush=True)
    used = after["used"] - before["used"]
    print(f"RESULT triplet_bytes_per_key: {used / max(1, after['keys'] - before['keys']):.0f}",
          flush=True)
    avg, k = sample_usage(port, "gf:g:t:*")
    print(f"RESULT triplet_key: MEMORY USAGE mean {avg:.0f} bytes over {k} keys", flush=True)
    if kinds_now.get("gf:g:p"):
        avg, k = sample_usage(port, "gf:g:p:*")
        print(f"RESULT pooled_sender_key: MEMORY USAGE mean {avg:.0f} bytes over {k} keys",
              flush=True)


def sequential_triplets(gf_port, n):
    with socket.create_connection(("127.0.0.1", gf_port), timeout=10) as c:
        f = c.makefile("rb")
        for i in range(n):
            req = (f"request=smtpd_access_policy\nprotocol_state=RCPT\n"
                   f"client_address=10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}\n"
                   f"client_name=unknown\nsender=s{i}@sizing.example\n"
                   f"recipient=r@example.org\ninstance=i{i}\n\n")
            c.sendall(req.encode())
            while f.readline() not in (b"\n", b""):
                pass


def checks_phase(port, gf, cfg, http_port, n):
    key = subprocess.run([gf, "keys", "add", "--blog", "http://blog.example", "--config", cfg],
                         check=True, capture_output=True, text=True, timeout=30).stdout.strip()
    before = snapshot(port)
    conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
    for i in range(n):
        body = urllib.parse.urlencode({
            "api_key": key, "blog": "http://blog.example", "user_ip": f"192.0.2.{i % 250 + 1}",
            "user_agent": "Mozilla/5.0", "comment_type": "comment",
            "comment_author": f"Reader {i}", "comment_author_email": f"r{i}@mail.example",
            "comment_content": f"Thanks for the recipe number {i}, it worked well for us."})
        conn.request("POST", f"/1.1/comment-check", body,
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "Host": f"{key}.rest.akismet.com"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit(f"comment-check answered {r.status}")
    after = snapshot(port)
    report("stored_checks", n, before, after)
    avg, k = sample_usage(port, "gf:a:c:*")
    print(f"RESULT check_key: MEMORY USAGE mean {avg:.0f} bytes over {k} keys", flush=True)


def flux_phase(port, sock, kind, n, published_before):
    tap = DnstapSender(sock)
    before = snapshot(port)
    for i in range(n):
        if kind == "big":  # 128 answers of 16 new agents: 2,048 addresses, the per-name cap
            for r in range(128):
                tap.answer(f"b{i}.big-sizing.example",
                           [f"10.{(r * 16 + k) >> 8 & 255}.{(r * 16 + k) & 255}.{i & 255}"
                            for k in range(16)], 60)
        elif kind == "benign":
            tap.answer(f"host{i}.benign-sizing.example", [f"192.0.2.{i % 250 + 1}",
                                                         f"198.51.100.{i % 250 + 1}"], 3600)
        else:
            for r in range(6):
                tap.answer(f"n{i}.flux-sizing.example",
                           [f"10.{(i * 7 + r * 5 + k) % 250}.{(i >> 8) & 255}.{i & 255}"
                            for k in range(5)], 60)
    tap.close()
    deadline = time.time() + 120
    want = before["keys"] + (3 if kind == "benign" else 3) * n
    while time.time() < deadline and snapshot(port)["keys"] < want:
        time.sleep(0.5)
    time.sleep(2.5)  # two more passes: the last deltas of names still being published
    after = snapshot(port)
    report(f"flux_names_{kind}", n, before, after)
    for kind_key in ("s", "g", "e"):
        avg, k = sample_usage(port, f"gf:f:{{*{kind}-sizing*}}:{kind_key}", 200)
        print(f"RESULT flux_{kind}_key_{kind_key}: MEMORY USAGE mean {avg:.0f} bytes over {k}",
              flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("greyflux")
    ap.add_argument("--triplets", type=int, default=20000)
    ap.add_argument("--checks", type=int, default=5000)
    ap.add_argument("--benign", type=int, default=10000)
    ap.add_argument("--flux", type=int, default=2000)
    ap.add_argument("--big", type=int, default=50, help="flux names at the 2,048-address cap")
    ap.add_argument("--load", help="path to gf_policy_load (else a sequential client)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="gf-sizing-")
    procs = []
    try:
        rport = free_port()
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", tmp, "--logfile", tmp + "/redis.log"]))
        while subprocess.run(["redis-cli", "-p", str(rport), "PING"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            time.sleep(0.05)
        print("redis", info(rport, "server").get("redis_version"), "allocator",
              info(rport, "memory").get("mem_allocator"), flush=True)
        pport, hport = free_port(), free_port()
        sock = os.path.join(tmp, "dnstap.sock")
        cfg = os.path.join(tmp, "g.toml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(f"""[daemon]
data_dir = "{tmp}"
[store]
backend = "redis"
redis_url = "redis://127.0.0.1:{rport}/0"
redis_timeout = "500ms"
[policy]
listen = ["127.0.0.1:{pport}"]
[http]
listen = ["127.0.0.1:{hport}"]
[admin]
socket = "{tmp}/admin.sock"
[spamd]
listen = []
[history]
persist = false
[log]
level = "warn"
file = "{tmp}/log"
[flux]
allowlist = ""
dnstap_socket = "{sock}"
rpz_interval = "1s"
shared = true
""")
        root = ["--set", "daemon.user=root"] if os.geteuid() == 0 else []
        gf = subprocess.Popen([a.greyflux, "serve", "--config", cfg, *root])
        procs.append(gf)
        deadline = time.time() + 20
        while not os.path.exists(sock):
            if gf.poll() is not None or time.time() > deadline:
                raise SystemExit("greyflux did not start; see " + tmp + "/log")
            time.sleep(0.05)
        policy_phase(rport, pport, a.triplets, a.load)
        checks_phase(rport, a.greyflux, cfg, hport, a.checks)
        flux_phase(rport, sock, "benign", a.benign, 0)
        flux_phase(rport, sock, "flux", a.flux, 0)
        flux_phase(rport, sock, "big", a.big, 0)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
