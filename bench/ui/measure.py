#!/usr/bin/env python3
"""Dashboard measurements on this machine (docs/ui.md has the figures and this command).

1. Time to first render, in headless Debian chromium: N cold loads (a new page, navigation
   start to the page's own "rendered" mark, first contentful paint, and the end of the first
   frame after it) of the overview and of a 1,000-row history page, medians.
2. The front doors' request rate with the dashboard open against without it, in the same run
   on the same daemon, alternating without / with K overview tabs open (auto-refreshing every
   10 s), R rounds each, S seconds per load: policy (gf_policy_load, closed loop, 8 connections,
   new triplets), comments (wrk, 8 keep-alive connections, bench/akismet/comment_check.lua's
   varied comment-checks on the same [http] listener the dashboard uses) and spamd
   (gf_spamd_load CHECK, 4 connections, the stack's training mails).

The daemon is tests/integration/ui/uistack.py's (every door on loopback, fed the same traffic
as the browser test) plus 1,200 more greylist decisions so that History has over 1,000 rows.

Usage: measure.py GREYFLUX NPM_DIR POLICY_LOAD [--renders N] [--seconds S] [--rounds R] [--tabs K]
                  [--doors policy,comments,spamd]   (comments needs wrk; spamd gf_spamd_load
                                                     beside POLICY_LOAD)
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "ui"))
from uistack import HAM_TRAINING, SPAM_TRAINING, Stack  # noqa: E402


def policy_load(tool, port, seconds):
    out = subprocess.run([tool, "--target", f"127.0.0.1:{port}", "--mode", "new",
                          "--connections", "8", "--duration", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"gf_policy_load: {out.stderr}")
    kv = dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)
    return float(kv["rps"]), int(kv["errors"]), kv


def comments_load(port, key, seconds):
    lua = os.path.join(HERE, "..", "akismet", "comment_check.lua")
    out = subprocess.run(["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "5s", "-s", lua,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         timeout=seconds + 60, env=dict(os.environ, GF_KEY=key))
    m = re.search(r"RESULT (.*)", out.stdout)
    if out.returncode != 0 or not m:
        raise RuntimeError(f"wrk: {out.stdout} {out.stderr}")
    kv = dict(f.split("=", 1) for f in m.group(1).split())
    return float(kv["rps"]), int(kv["errors"]) + int(kv["non2xx"]), kv


def spamd_load(tool, port, files, seconds):
    out = subprocess.run([tool, str(port), *files, "--concurrency", "4", "--seconds",
                          str(seconds), "--count", "100000000"],
                         capture_output=True, text=True, timeout=seconds + 60)
    m = re.search(r"(\d+) failed.* = (\d+) msg/s", out.stdout)
    if not m:
        raise RuntimeError(f"gf_spamd_load: {out.stdout} {out.stderr}")
    return float(m.group(2)), int(m.group(1)), out.stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("greyflux")
    ap.add_argument("npm_dir")
    ap.add_argument("policy_load")
    ap.add_argument("--renders", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tabs", type=int, default=1)
    ap.add_argument("--doors", default="policy,comments,spamd")
    a = ap.parse_args()
    mails = tempfile.mkdtemp(prefix="gf-measure-")
    files = []
    for i, m in enumerate(SPAM_TRAINING + HAM_TRAINING):
        files.append(os.path.join(mails, f"{i}.eml"))
        with open(files[-1], "wb") as f:
            f.write(m)
    spamd_tool = os.path.join(os.path.dirname(a.policy_load), "gf_spamd_load")
    stack = Stack(a.greyflux)
    env = None
    try:
        stack.start()
        stack.feed()
        fill = subprocess.run([a.policy_load, "--target", f"127.0.0.1:{stack.policy_port}",
                               "--mode", "new", "--requests", "1200", "--connections", "4"],
                              capture_output=True, text=True, timeout=120)
        if fill.returncode != 0:
            raise RuntimeError(fill.stderr)
        status, hist = stack.api("GET", "history?limit=1000")
        if status != 200 or len(hist["rows"]) != 1000:
            raise RuntimeError(f"history has no 1,000 rows: {status}")
        env = dict(os.environ, GF_URL=stack.url, GF_TOKEN=stack.token,
                   NODE_PATH=os.path.join(a.npm_dir, "node_modules"))
        js = os.path.join(HERE, "measure.js")
        r = subprocess.run(["node", js, "render", str(a.renders)], env=env, capture_output=True,
                           text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        render = json.loads(r.stdout.strip().splitlines()[-1])
        print(json.dumps({"first_render": {k: render[k] for k in
                                           ("overview_median", "history1000_median", "history_rows")}}))

        loads = {
            "policy": lambda: policy_load(a.policy_load, stack.policy_port, a.seconds),
            "comments": lambda: comments_load(stack.http_port, stack.key, a.seconds),
            "spamd": lambda: spamd_load(spamd_tool, stack.spamd_port, files, a.seconds),
        }
        for door in a.doors.split(","):
            without, with_ui, api_requests = [], [], 0
            for _ in range(a.rounds):
                rps, err, _ = loads[door]()
                without.append(rps)
                node = subprocess.Popen(["node", js, "open", str(a.tabs)], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                if node.stdout.readline().strip() != "ready":
                    raise RuntimeError("measure.js open did not start")
                rps, err2, _ = loads[door]()
                with_ui.append(rps)
                node.stdin.close()
                done = json.loads(node.stdout.readline())
                api_requests += done["api_requests"]
                node.wait(timeout=30)
                if err or err2:
                    raise RuntimeError(f"{door} load errors: {err} {err2}")
            mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
            print(json.dumps({"door": door, "rps_without": without, "rps_with_dashboard": with_ui,
                              "ratio_with_over_without": round(mean(with_ui) / mean(without), 3),
                              "dashboard_tabs": a.tabs, "dashboard_api_requests": api_requests,
                              "seconds_each": a.seconds}), flush=True)
        return 0
    finally:
        stack.cleanup()
        shutil.rmtree(mails, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
