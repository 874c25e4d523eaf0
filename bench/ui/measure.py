#!/usr/bin/env python3
"""Dashboard measurements on this machine (docs/ui.md has the figures and this command).

1. Time to first render, in headless Debian chromium: N cold loads (a new page, navigation
   start to the page's own "rendered" mark, first contentful paint, and the end of the first
   frame after it) of the overview and of a 1,000-row history page, medians.
2. The front doors' request rate with the dashboard open against without it, in the same run
   on the same daemon: gf_policy_load (closed loop, 8 connections, new triplets) for S seconds,
   alternating without / with K overview tabs open (auto-refreshing every 10 s), R rounds each.

The daemon is tests/integration/ui/uistack.py's (every door on loopback, fed the same traffic
as the browser test) plus 1,200 more greylist decisions so that History has over 1,000 rows.

Usage: measure.py GREYFLUX NPM_DIR POLICY_LOAD [--renders N] [--seconds S] [--rounds R] [--tabs K]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration", "ui"))
from uistack import Stack  # noqa: E402


def policy_load(tool, port, seconds):
    out = subprocess.run([tool, "--target", f"127.0.0.1:{port}", "--mode", "new",
                          "--connections", "8", "--duration", str(seconds)],
                         capture_output=True, text=True, timeout=seconds + 60)
    if out.returncode != 0:
        raise RuntimeError(f"gf_policy_load: {out.stderr}")
    kv = dict(f.split("=", 1) for f in out.stdout.split() if "=" in f)
    return float(kv["rps"]), int(kv["errors"]), kv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("greyflux")
    ap.add_argument("npm_dir")
    ap.add_argument("policy_load")
    ap.add_argument("--renders", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--tabs", type=int, default=1)
    a = ap.parse_args()
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

        without, with_ui, api_requests = [], [], 0
        for _ in range(a.rounds):
            rps, err, _ = policy_load(a.policy_load, stack.policy_port, a.seconds)
            without.append(rps)
            node = subprocess.Popen(["node", js, "open", str(a.tabs)], env=env,
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            if node.stdout.readline().strip() != "ready":
                raise RuntimeError("measure.js open did not start")
            rps, err2, _ = policy_load(a.policy_load, stack.policy_port, a.seconds)
            with_ui.append(rps)
            node.stdin.close()
            done = json.loads(node.stdout.readline())
            api_requests += done["api_requests"]
            node.wait(timeout=30)
            if err or err2:
                raise RuntimeError(f"policy load errors: {err} {err2}")
        mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
        print(json.dumps({"policy_rps_without": without, "policy_rps_with_dashboard": with_ui,
                          "ratio_with_over_without": round(mean(with_ui) / mean(without), 3),
                          "dashboard_tabs": a.tabs, "dashboard_api_requests": api_requests,
                          "seconds_each": a.seconds}))
        return 0
    finally:
        stack.cleanup()


if __name__ == "__main__":
    sys.exit(main())
