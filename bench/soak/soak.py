#!/usr/bin/env python3
"""The soak: every front door of one greyflux under open-loop mixed load for a long time, with
throughput, p99, errors, RSS and open descriptors sampled every 10 s, plotted and judged.

1. Calibration: each door's saturation on this machine, others idle, on its own daemon: a
   short closed-loop run with the repo's load tools (gf_policy_load 8 connections; wrk with
   bench/akismet/comment_check.lua for comments and plain wrk on GET /api/v1/status for the
   admin API (bench/soak/admin_mix.lua: the dashboard's GETs), 8 connections; gf_spamd_load 4 connections; gf_milter_load 4 connections;
   doors.py's Frame Streams writer for flux, the only door without a C++ tool).
   Then the mixed saturation: all doors closed loop at once with the soak's own clients
   (doors.py --closed), on a fresh daemon. The doors share the daemon, the 2 cores and the
   machine's other tenants, and the Python clients cost CPU too, so this is what the machine
   can give each door when all are pushed; the solo figures are reported beside it.
2. The soak, on a fresh daemon: all doors at once, each in open loop (doors.py: fixed schedule,
   latency from the scheduled send time) at FRACTION (default 0.5) of its mixed saturation,
   for --minutes. (FRACTION of each door's *solo* saturation, all at once, is an overload:
   six doors at 0.5 each ask for 3x what the machine has; --basis solo does that.)
3. Every 10 s: per door requests done/s, p50/p99/max latency, errors and backlog; the daemon's
   VmRSS, RssAnon, RssFile (/proc/PID/status), open fds (/proc/PID/fd), threads and the
   machine's 1-min load average: one CSV row (--csv).
4. A PNG (plot.py, needs python3-matplotlib; skipped with a message when it is missing).
5. The verdict, "flat within noise" (judge.py states the rule); exit 1 when it fails.

Usage: soak.py GREYFLUX [--minutes 30] [--fraction 0.5] [--csv F] [--png F] [--rates door=R,..]
The load tools are looked up beside GREYFLUX (bench/gf_policy_load ...); wrk must be installed.
"""
import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration", "ui"))
sys.path.insert(0, HERE)
from uistack import BLOG, HAM_TRAINING, MAIL, SPAM_TRAINING, Stack  # noqa: E402
from gfdaemon import free_port  # noqa: E402
import judge  # noqa: E402

DOORS = ["policy", "comments", "admin", "spamd", "milter", "flux"]
WINDOW_S = 10
# Connections per door in the soak: enough for the target rate at a few ms per request.
SOAK_CONNECTIONS = {"policy": 8, "comments": 8, "admin": 4, "spamd": 8, "milter": 8, "flux": 1}


def run(cmd, seconds, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, env=env)
    return out.returncode, out.stdout, out.stderr


# Bounded in-memory structures that fill with the soak's traffic, set small so that each is at
# its bound within the first minutes (before the judged span) instead of filling all run long:
# the decision history (a ring of rows with each row's relearn features; 100,000 by default)
# and the comment flood tracker (every distinct comment text, about 80 bytes each, 200,000 by
# default: at 200 checks/s of distinct texts it grows 16 MiB over 17 minutes, which the RssAnon
# rule cannot tell from a leak; tests/reliability/memory_flood_test.py checks the default).
BOUNDED_SETS = ["history.size=10000", "akismet.flood_texts=10000"]


class SoakStack(Stack):
    """uistack's daemon (policy, HTTP, spamd, dnstap) plus a milter listener, with the bounded
    structures of BOUNDED_SETS small: after the warm-up its memory must stay flat, and growth
    the judge sees is not a bounded structure filling up."""

    def __init__(self, binary):
        self.milter_port = free_port()
        super().__init__(binary, extra_sets=[f'milter.listen=["127.0.0.1:{self.milter_port}"]',
                                             *BOUNDED_SETS])

    def spec(self, mails):
        return {"policy_port": self.policy_port, "http_port": self.http_port,
                "spamd_port": self.spamd_port, "milter_port": self.milter_port,
                "dnstap": self.dnstap, "key": self.key, "token": self.token, "blog": BLOG,
                "mails": mails}


# ---- 1. calibration ------------------------------------------------------------------------

@contextlib.contextmanager
def fed_stack(binary, mails, spec_path):
    """A fresh SoakStack, started and fed, with its spec file written to spec_path
    (stack.spec_path); stopped on leaving."""
    stack = SoakStack(binary)
    try:
        stack.start()
        stack.feed()
        with open(spec_path, "w") as f:
            json.dump(stack.spec(mails), f)
        stack.spec_path = spec_path
        yield stack
    finally:
        stack.cleanup()


def kv_line(text):
    return dict(f.split("=", 1) for f in text.split() if "=" in f)


def calibrate_door(door, stack, tools, mails, spec_path, seconds):
    """(closed-loop requests/s, errors, the command's summary) for one door."""
    p = stack
    if door == "policy":
        rc, out, err = run([tools["policy"], "--target", f"127.0.0.1:{p.policy_port}", "--mode",
                            "new", "--connections", "8", "--duration", str(seconds)], seconds)
        kv = kv_line(out)
        return float(kv["rps"]), int(kv["errors"]) + rc
    if door == "comments":
        lua = os.path.join(ROOT, "bench", "akismet", "comment_check.lua")
        rc, out, err = run(["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "5s", "-s", lua,
                            p.url], seconds, env=dict(os.environ, GF_KEY=p.key))
        kv = kv_line(re.search(r"RESULT (.*)", out).group(1))
        return float(kv["rps"]), int(kv["errors"]) + int(kv["non2xx"]) + rc
    if door == "admin":
        lua = os.path.join(HERE, "admin_mix.lua")
        rc, out, err = run(["wrk", "-t1", "-c8", f"-d{seconds}s", "--timeout", "5s", "-s", lua,
                            p.url], seconds, env=dict(os.environ, GF_TOKEN=p.token))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: (.*)", out)
        errors = (int(bad.group(1)) if bad else 0) + (1 if sock else 0) + rc
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), errors
    if door in ("spamd", "milter"):
        cmd = ([tools["spamd"], str(p.spamd_port), *mails, "--concurrency", "4", "--seconds"]
               if door == "spamd" else
               [tools["milter"], str(p.milter_port), *mails, "--connections", "4", "--seconds"])
        rc, out, err = run(cmd + [str(seconds), "--count", "100000000"], seconds)
        m = re.search(r"(\d+) failed.* = (\d+) msg/s", out)
        if not m:
            raise RuntimeError(f"{door} load: {out} {err}")
        return float(m.group(2)), int(m.group(1))
    rc, out, err = run([sys.executable, os.path.join(HERE, "doors.py"), "flux", "--spec",
                        spec_path, "--closed", "1", "--seconds", str(seconds)], seconds)
    res = json.loads(out.strip().splitlines()[-1])
    return float(res["rate"]), int(res["errors"]) + rc


def calibrate(a, tools, mails, tmp):
    sat = {}
    for door in a.doors:
        # a daemon per door: a door's saturation alone
        with fed_stack(a.greyflux, mails, os.path.join(tmp, "spec-calib.json")) as stack:
            rate, errors = calibrate_door(door, stack, tools, mails, stack.spec_path,
                                          a.calib_seconds)
        if errors:
            raise RuntimeError(f"calibration of {door}: {errors} errors")
        sat[door] = rate
        print(json.dumps({"calibration": door, "closed_loop_rps": rate,
                          "seconds": a.calib_seconds, "loadavg": loadavg()}), flush=True)
    return sat


def calibrate_mix(a, mails, tmp):
    """Every door closed loop at once, with the soak's own clients (doors.py --closed, the
    soak's connection counts) on one fresh daemon: what each door gets when all are pushed."""
    with fed_stack(a.greyflux, mails, os.path.join(tmp, "spec-mix.json")) as stack:
        procs = {d: subprocess.Popen([sys.executable, os.path.join(HERE, "doors.py"), d,
                                      "--spec", stack.spec_path, "--closed",
                                      str(SOAK_CONNECTIONS[d]), "--seconds",
                                      str(a.calib_seconds)], stdout=subprocess.PIPE, text=True)
                 for d in a.doors}
        sat = {}
        for d, p in procs.items():
            out, _ = p.communicate(timeout=a.calib_seconds + 60)
            res = json.loads(out.strip().splitlines()[-1])
            if res["errors"] or p.returncode:
                raise RuntimeError(f"mixed calibration of {d}: {res}")
            sat[d] = res["rate"]
    print(json.dumps({"calibration": "mixed", "closed_loop_rps": sat,
                      "seconds": a.calib_seconds, "loadavg": loadavg()}), flush=True)
    return sat


# ---- 2./3. the soak and its samples ----------------------------------------------------------

def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def proc_sample(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    out["fds"] = len(os.listdir(f"/proc/{pid}/fd"))
    return out


class Reader(threading.Thread):
    """Collects one door process's JSON lines."""

    def __init__(self, door, proc, sink):
        super().__init__(daemon=True)
        self.door, self.proc, self.sink = door, proc, sink
        self.scheduled = None

    def run(self):
        for line in self.proc.stdout:
            d = json.loads(line)
            if "window" in d:
                self.sink[(self.door, d["window"])] = d
            elif "scheduled" in d:
                self.scheduled = d["scheduled"]


def soak(a, rates, mails, tmp):
    stack = SoakStack(a.greyflux)
    windows = {}
    samples = []
    procs = []
    try:
        stack.start()
        stack.feed()
        spec_path = os.path.join(tmp, "spec-soak.json")
        with open(spec_path, "w") as f:
            json.dump(stack.spec(mails), f)
        seconds = int(a.minutes * 60)
        readers = []
        for door in a.doors:
            p = subprocess.Popen([sys.executable, os.path.join(HERE, "doors.py"), door, "--spec",
                                  spec_path, "--rate", str(rates[door]), "--seconds",
                                  str(seconds), "--window", str(WINDOW_S),
                                  "--connections", str(SOAK_CONNECTIONS[door])],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            procs.append(p)
            if "ready" not in json.loads(p.stdout.readline()):
                raise RuntimeError(f"doors.py {door} did not start")
        counters_before = daemon_counters(stack)  # after start-up (its port probes) and feed
        t0 = time.time() + 1  # every door process is up: one common schedule start
        for door, p in zip(a.doors, procs):
            p.stdin.write(f"{t0}\n")
            p.stdin.close()
            readers.append(Reader(door, p, windows))
            readers[-1].start()
        pid = stack.proc.pid
        samples.append(dict(t_s=0, load1=loadavg(), **proc_sample(pid)))
        for w in range(seconds // WINDOW_S):
            time.sleep(max(0.0, t0 + (w + 1) * WINDOW_S - time.time()))
            if stack.proc.poll() is not None:
                raise RuntimeError(f"greyflux exited with {stack.proc.returncode} mid-soak")
            samples.append(dict(t_s=(w + 1) * WINDOW_S, load1=loadavg(), **proc_sample(pid)))
            if (w + 1) % 6 == 0:
                s = samples[-1]
                print(f"soak: {(w + 1) * WINDOW_S} s, VmRSS {s['VmRSS']} KiB, fds {s['fds']}, "
                      f"load {s['load1']}", flush=True)
        for p in procs:
            p.wait(timeout=60)
        for r in readers:
            r.join(timeout=10)
        scheduled = {r.door: r.scheduled for r in readers}
        after = daemon_counters(stack)
        counter_deltas = {k: after[k] - counters_before[k] for k in after}
        log_problems = log_warnings(stack.log)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        stack.cleanup()
    return windows, samples, scheduled, log_problems, counter_deltas


DAEMON_ERROR_COUNTERS = ("greyflux_protocol_errors_total", "greyflux_store_errors_total",
                         "greyflux_fail_open_total", "greyflux_connections_refused_total")


def daemon_counters(stack):
    """The daemon's own error counters (GET /metrics), summed per name."""
    import urllib.request  # noqa: PLC0415
    with urllib.request.urlopen(f"{stack.url}/metrics", timeout=10) as r:
        text = r.read().decode()
    out = dict.fromkeys(DAEMON_ERROR_COUNTERS, 0.0)
    for line in text.splitlines():
        name = line.split("{")[0].split(" ")[0]
        if name in out:
            out[name] += float(line.rsplit(" ", 1)[1])
    return out


def log_warnings(path):
    """The daemon log's warning, error and critical lines ("TIME W ...")."""
    try:
        with open(path, errors="replace") as f:
            return [l.rstrip() for l in f if re.match(r"\S+ [WEC] ", l)]
    except FileNotFoundError:
        return []


def write_csv(path, doors, windows, samples):
    cols = ["t_s", "load1", "VmRSS_kib", "RssAnon_kib", "RssFile_kib", "fds", "threads"]
    for d in doors:
        cols += [f"{d}_rps", f"{d}_p50_ms", f"{d}_p99_ms", f"{d}_max_ms", f"{d}_errors",
                 f"{d}_backlog", f"{d}_client_lag_ms"]
    rows = []
    for i, s in enumerate(samples):
        row = {"t_s": s["t_s"], "load1": s["load1"], "VmRSS_kib": s["VmRSS"],
               "RssAnon_kib": s["RssAnon"], "RssFile_kib": s["RssFile"], "fds": s["fds"],
               "threads": s["Threads"]}
        for d in doors:
            w = windows.get((d, i - 1)) if i > 0 else None
            row[f"{d}_rps"] = round(w["done"] / WINDOW_S, 1) if w else ""
            for k in ("p50_ms", "p99_ms", "max_ms", "errors", "backlog", "client_lag_ms"):
                row[f"{d}_{k}"] = w[k] if w and w[k] is not None else ""
        rows.append(row)
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        for r in rows:
            f.write(",".join(str(r[c]) for c in cols) + "\n")
    return rows


def parse_rates(text):
    return {k: float(v) for k, v in (p.split("=") for p in text.split(",") if p)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("greyflux")
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--fraction", type=float, default=0.5,
                    help="soak rate of each door as a fraction of its saturation (default 0.5)")
    ap.add_argument("--calib-seconds", type=int, default=8)
    ap.add_argument("--rates", default="",
                    help="skip calibration: door=saturation_rps,... (the basis's figures)")
    ap.add_argument("--doors", default=",".join(DOORS))
    ap.add_argument("--csv", default="soak.csv")
    ap.add_argument("--png", default="")
    ap.add_argument("--title", default="")
    ap.add_argument("--calibrate-only", action="store_true")
    ap.add_argument("--basis", choices=["mixed", "solo"], default="mixed",
                    help="the saturation FRACTION applies to (default mixed)")
    ap.add_argument("--skip-solo", action="store_true", help="calibrate the mix only")
    judge.add_arguments(ap)
    a = ap.parse_args()
    a.doors = a.doors.split(",")
    bench_dir = os.path.join(os.path.dirname(os.path.abspath(a.greyflux)), "bench")
    tools = {"policy": os.path.join(bench_dir, "gf_policy_load"),
             "spamd": os.path.join(bench_dir, "gf_spamd_load"),
             "milter": os.path.join(bench_dir, "gf_milter_load")}
    for t in tools.values():
        if not os.access(t, os.X_OK) and not (a.rates or a.skip_solo):
            sys.exit(f"soak.py: {t} missing (cmake --build build/release --target "
                     f"{os.path.basename(t)})")
    if shutil.which("wrk") is None and not (a.rates or a.skip_solo):
        sys.exit("soak.py: wrk missing (scripts/deps.sh bench)")
    tmp = tempfile.mkdtemp(prefix="gf-soak-")
    try:
        mails = []
        for i, m in enumerate(SPAM_TRAINING + HAM_TRAINING + [MAIL]):
            mails.append(os.path.join(tmp, f"{i}.eml"))
            with open(mails[-1], "wb") as f:
                f.write(m)
        if a.rates:
            solo, mixed = {}, parse_rates(a.rates)
        else:
            solo = {} if a.skip_solo else calibrate(a, tools, mails, tmp)
            mixed = calibrate_mix(a, mails, tmp)
        sat = solo if a.basis == "solo" else mixed
        rates = {d: round(sat[d] * a.fraction, 1) for d in a.doors}
        print(json.dumps({"solo_saturation_rps": solo, "mixed_saturation_rps": mixed,
                          "basis": a.basis, "fraction": a.fraction, "soak_rps": rates,
                          "minutes": a.minutes, "loadavg": loadavg()}), flush=True)
        if a.calibrate_only:
            return 0
        windows, samples, scheduled, log_problems, counter_deltas = soak(a, rates, mails, tmp)
        rows = write_csv(a.csv, a.doors, windows, samples)
        with open(a.csv + ".windows.json", "w") as f:  # the raw windows, to judge again later
            json.dump({"rates": rates, "scheduled": scheduled,
                       "windows": [w for _, w in sorted(windows.items())]}, f)
        verdict = judge.judge(rows, a.doors, rates, scheduled, windows, a)
        verdict["bounded_settings"] = BOUNDED_SETS
        verdict["daemon_log_warnings"] = len(log_problems)
        verdict["daemon_error_counters_delta"] = counter_deltas
        if log_problems or any(counter_deltas.values()):
            verdict["failures"].append("the daemon logged warnings or counted errors")
            verdict["pass"] = False
        for line in log_problems[:10]:
            print("greyflux log:", line, flush=True)
        print(json.dumps(verdict, indent=1), flush=True)
        if a.png:
            import plot  # noqa: PLC0415 -- only when asked, and it may lack matplotlib
            plot.plot(a.csv, a.png, a.doors, a.title or
                      f"greyflux soak: {a.minutes:g} min, every door at once, each at {a.fraction:g} "
                      f"of its {a.basis} saturation")
        return 0 if verdict["pass"] else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
