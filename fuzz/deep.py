#!/usr/bin/env python3
"""Fuzzing at depth: long libFuzzer runs under ASan+UBSan, kept corpora, a ledger of executions.

    python3 fuzz/deep.py run [--build build/fuzz] [--targets a,b] [--runs N] [--budget-s S]
    python3 fuzz/deep.py coverage [--build build/fuzz-coverage]
    python3 fuzz/deep.py table

`run` fuzzes each target (built by `make fuzz`, preset "fuzz": clang, libFuzzer, ASan+UBSan)
from its kept corpus (fuzz/corpus/<target>/) plus its seeds, for `--runs` executions or until the
target's share of `--budget-s` runs out, then merges the inputs that add coverage back into
fuzz/corpus/<target>/ (libFuzzer's -merge=1: only new coverage is kept, so the corpus stays
minimal) and appends one line per run to fuzz/ledger.tsv. A crash stops that target's run; its
input is kept in build/.../deep/<target>/ and the run is recorded with crashes=1, so a finding is
never silently dropped: fix it, add the input to fuzz/corpus/<target>/, and run again.

Executions add up across runs and sessions: the ledger is the record, `table` sums it. The
targets that read network input need 10 million executions, the rest 1 million (issue 17).

`coverage` replays every kept corpus through the standalone runner built with clang's source
coverage (preset "fuzz-coverage") and reports, per target, the line coverage of the source files
whose headers the target includes (the code it is there to exercise). The result is written to
fuzz/coverage.tsv for `table`.
"""
import argparse
import configparser
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUZZ = ROOT / "fuzz"
TIMEOUT_S = 10  # libFuzzer's -timeout: wall-clock seconds for one input
LEDGER = FUZZ / "ledger.tsv"
COVERAGE = FUZZ / "coverage.tsv"
# seconds: wall clock; cpu_seconds: the fuzzer's user+system CPU time (empty in rows from before
# it was recorded). On a shared machine the CPU time is the measure of the work done.
LEDGER_HEADER = ("date\tcommit\ttarget\texecs\tseconds\tcrashes\tcov\tft\tcorpus_files\t"
                 "cpu_seconds\n")

# Parsers that read bytes from the network or from captured traffic: 10 million executions each.
# The list is issue 17's: policy, spamd, HTTP form, MIME, DNS message, dnstap, pcap, Zeek, and
# the milter codec (both directions, and the filter that consumes it); and the HTTP request head
# check and the admin API's Cookie/Authorization parsers, which read request bytes too.
NETWORK = {
    "fuzz_policy_request", "fuzz_spamd_request", "fuzz_akismet_form", "fuzz_mime",
    "fuzz_dns_message", "fuzz_dnstap", "fuzz_pcap_reader", "fuzz_zeek", "fuzz_milter",
    "fuzz_milter_reply", "fuzz_milter_filter", "fuzz_http_head", "fuzz_admin_auth",
}
NETWORK_EXECS = 10_000_000
OTHER_EXECS = 1_000_000


def targets_from_cmake():
    text = (FUZZ / "CMakeLists.txt").read_text()
    m = re.search(r"set\(GF_FUZZ_TARGETS(.*?)\)", text, re.S)
    return m.group(1).split()


def git_commit():
    return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                          capture_output=True, text=True).stdout.strip()


def read_ledger():
    if not LEDGER.exists():
        return []
    lines = LEDGER.read_text().splitlines()
    keys = lines[0].split("\t")
    return [dict(zip(keys, line.split("\t"))) for line in lines[1:] if line.strip()]


def execs_so_far():
    total = {}
    for row in read_ledger():
        total[row["target"]] = total.get(row["target"], 0) + int(row["execs"])
    return total


def goal(target):
    return NETWORK_EXECS if target in NETWORK else OTHER_EXECS


def options(target):
    """fuzz/<target>.options (OSS-Fuzz's format): [libfuzzer] flags such as max_len and dict
    (a path relative to fuzz/), and [coverage] sources, the .cpp files (relative to the repository)
    that implement what the target exercises when no header names them (the capture readers)."""
    cp = configparser.ConfigParser()
    path = FUZZ / f"{target}.options"
    if path.exists():
        cp.read(path)
    return cp


def libfuzzer_flags(target):
    flags = []
    cp = options(target)
    if cp.has_section("libfuzzer"):
        for key, value in cp.items("libfuzzer"):
            if key == "dict":
                value = str(FUZZ / value)
            flags.append(f"-{key}={value}")
    return flags


def seed_dirs(build, target):
    dirs = [FUZZ / "corpus" / target]
    extra = build / "fuzz" / "seeds" / target
    if extra.is_dir():
        dirs.append(extra)
    return [d for d in dirs if d.is_dir()]


def starved(exe, work, env):
    """libFuzzer's -timeout counts wall-clock seconds, so a fuzzer at nice 19 on a busy machine
    can time out on an input that takes milliseconds. Each timeout input is replayed alone: if
    every one finishes within a tenth of the timeout in CPU seconds, the timeout was the
    scheduler's (the input is renamed starved-*, kept for a look, and is not a finding)."""
    inputs = list(work.glob("timeout-*"))
    if not inputs:
        return False
    for path in inputs:
        cpu0 = os.times()
        subprocess.run([str(exe), "-runs=1", str(path)], capture_output=True, env=env)
        cpu1 = os.times()
        cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system -
                                                            cpu0.children_system)
        if cpu > TIMEOUT_S / 10:
            return False
        print(f"{path.name}: a wall-clock timeout under starvation (replays in {cpu:.2f} CPU s)",
              flush=True)
        path.rename(path.with_name("starved-" + path.name.removeprefix("timeout-")))
    return True


def fuzz_one(build, target, runs, seconds):
    exe = build / "fuzz" / target
    work = build / "deep" / target
    (work / "corpus").mkdir(parents=True, exist_ok=True)
    cmd = [str(exe), f"-runs={runs}", f"-max_total_time={int(seconds)}", "-print_final_stats=1",
           f"-timeout={TIMEOUT_S}", "-rss_limit_mb=2560", f"-artifact_prefix={work}/"]
    cmd += libfuzzer_flags(target) + [str(work / "corpus")]
    cmd += [str(d) for d in seed_dirs(build, target)]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=1",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    start, cpu0 = time.monotonic(), os.times()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed, cpu1 = time.monotonic() - start, os.times()
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    log = proc.stderr
    (work / "last.log").write_text(log)
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", log))
    execs = int(stats.get("number_of_executed_units", 0))
    # SIGINT (to end a run early): libFuzzer prints its final stats and exits with
    # -interrupt_exitcode (72). A clean stop, counted and merged like a finished run.
    interrupted = proc.returncode == 72 and "libFuzzer: run interrupted" in log
    crashed = proc.returncode != 0 and not interrupted
    cov = re.findall(r"cov: (\d+) ft: (\d+)", log)
    cov, ft = cov[-1] if cov else ("", "")
    if crashed and execs == 0:
        # libFuzzer prints no final stats after a crash: take the last progress line instead.
        m = re.findall(r"#(\d+)\s", log)
        execs = int(m[-1]) if m else 0
    if crashed and "libFuzzer: timeout" in log and starved(exe, work, env):
        crashed = False
    if not crashed:
        # Keep only what adds coverage: merge the run's corpus into the kept one.
        kept = FUZZ / "corpus" / target
        kept.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(exe), "-merge=1"] + libfuzzer_flags(target) +
                       [str(kept), str(work / "corpus")],
                       capture_output=True, text=True, env=env)
    files = len(list((FUZZ / "corpus" / target).glob("*")))
    return execs, elapsed, cpu, crashed, cov, ft, files, work


def cmd_run(args):
    build = Path(args.build).resolve()
    targets = args.targets.split(",") if args.targets else targets_from_cmake()
    done = execs_so_far()
    todo = [t for t in targets if args.runs or done.get(t, 0) < goal(t)]
    if not todo:
        print("every target has reached its goal; pass --runs to go further")
        return 0
    if not LEDGER.exists():
        LEDGER.write_text(LEDGER_HEADER)
    lines = LEDGER.read_text().splitlines(keepends=True)
    if lines[0] != LEDGER_HEADER:  # a ledger from before cpu_seconds: add the column
        LEDGER.write_text(LEDGER_HEADER + "".join(lines[1:]))
    share = args.budget_s / len(todo)
    failed = 0
    for t in todo:
        runs = args.runs or goal(t) - done.get(t, 0)
        execs, secs, cpu, crashed, cov, ft, files, work = fuzz_one(build, t, runs, share)
        with LEDGER.open("a") as f:
            f.write(f"{dt.date.today()}\t{git_commit()}\t{t}\t{execs}\t{secs:.0f}\t"
                    f"{int(crashed)}\t{cov}\t{ft}\t{files}\t{cpu:.0f}\n")
        rate = execs / cpu if cpu else 0
        print(f"{t}: {execs:,} execs in {secs:.0f} s, {cpu:.0f} CPU s ({rate:,.0f}/CPU s), "
              f"cov {cov} ft {ft}, "
              f"corpus {files} files{', CRASH: see ' + str(work) if crashed else ''}",
              flush=True)
        failed += crashed
    return 1 if failed else 0


def sources_of(target):
    """The .cpp files whose headers the target includes: the code it exists to exercise."""
    text = (FUZZ / f"{target}.cpp").read_text()
    out = []
    for inc in re.findall(r'#include "((?:core|io)/[^"]+)\.hpp"', text):
        cpp = ROOT / "src" / f"{inc}.cpp"
        if cpp.exists():
            out.append(cpp)
    cp = options(target)
    if cp.has_option("coverage", "sources"):
        out += [ROOT / s for s in cp.get("coverage", "sources").split()]
    return out


def cmd_rate(args):
    """Executions per CPU second of each target, fuzzing with seed 1 from a copy of its kept
    corpus for --runs executions (or --seconds): the figure to compare before and after a change
    (nothing is kept or recorded). The executions include the replay of the corpus."""
    build = Path(args.build).resolve()
    for t in args.targets.split(","):
        work = build / "rate" / t
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(FUZZ / "corpus" / t, work)
        flags = [] if args.no_options else libfuzzer_flags(t)
        limit = f"-runs={args.runs}" if args.runs else f"-max_total_time={args.seconds}"
        cmd = [str(build / "fuzz" / t), limit, "-seed=1",
               "-print_final_stats=1", "-rss_limit_mb=2560", f"-artifact_prefix={work}/"]
        cmd += flags + [str(work)]
        cpu0 = os.times()
        log = subprocess.run(cmd, capture_output=True, text=True).stderr
        cpu1 = os.times()
        cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
        execs = int(dict(re.findall(r"stat::(\w+):\s+(\d+)", log)).get("number_of_executed_units", 0))
        inited = re.search(r"INITED cov: (\d+) ft: (\d+)", log)
        final = re.findall(r"cov: (\d+) ft: (\d+)", log)
        print(f"{t}: {execs:,} execs, {cpu:.1f} CPU s, {execs / cpu if cpu else 0:,.0f}/CPU s; "
              f"corpus cov/ft {inited.groups() if inited else '-'} -> "
              f"{final[-1] if final else '-'} {' '.join(flags)}", flush=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


def cmd_coverage(args):
    build = Path(args.build).resolve()
    rows = []
    for t in targets_from_cmake():
        exe = build / "fuzz" / t
        srcs = sources_of(t)
        if not exe.exists() or not srcs:
            continue
        prof = build / "deep-cov" / t
        shutil.rmtree(prof, ignore_errors=True)
        prof.mkdir(parents=True)
        env = dict(os.environ, LLVM_PROFILE_FILE=str(prof / "%p.profraw"))
        subprocess.run([str(exe)] + [str(d) for d in seed_dirs(build, t)], env=env,
                       capture_output=True)
        raws = [str(p) for p in prof.glob("*.profraw")]
        if not raws:
            continue
        subprocess.run(["llvm-profdata", "merge", "-sparse", "-o", str(prof / "all.profdata")]
                       + raws, check=True)
        rep = subprocess.run(["llvm-cov", "report", str(exe),
                              f"-instr-profile={prof / 'all.profdata'}"] + [str(s) for s in srcs],
                             capture_output=True, text=True, check=True).stdout
        total = [l for l in rep.splitlines() if l.startswith("TOTAL")]
        # TOTAL regions missed cover% functions missed exec% lines missed cover% ...
        parts = total[0].split() if total else []
        lines, missed = (int(parts[7]), int(parts[8])) if len(parts) > 9 else (0, 0)
        pct = 100.0 * (lines - missed) / lines if lines else 0.0
        files = " ".join(str(s.relative_to(ROOT / "src")) for s in srcs)
        rows.append(f"{t}\t{lines}\t{lines - missed}\t{pct:.1f}\t{files}\n")
        print(f"{t}: {pct:.1f}% of {lines} lines in {files}", flush=True)
    COVERAGE.write_text("target\tlines\tcovered\tpercent\tfiles\n" + "".join(rows))
    return 0


def cmd_table(_args):
    done = execs_so_far()
    runs, secs, cpus, crashes, rate = {}, {}, {}, {}, {}
    for row in read_ledger():
        t = row["target"]
        runs[t] = runs.get(t, 0) + 1
        secs[t] = secs.get(t, 0) + int(row["seconds"])
        crashes[t] = crashes.get(t, 0) + int(row["crashes"])
        if row.get("cpu_seconds"):
            cpu = int(row["cpu_seconds"])
            cpus[t] = cpus.get(t, 0) + cpu
            if cpu >= 10:  # the rate of the latest run long enough to measure one
                rate[t] = int(row["execs"]) / cpu
    cov = {}
    if COVERAGE.exists():
        for line in COVERAGE.read_text().splitlines()[1:]:
            p = line.split("\t")
            cov[p[0]] = (p[3], p[1], p[4])
    print("| target | kind | executions | goal | runs | wall s | CPU s | exec/CPU s | CPU h to goal "
          "| findings | corpus | line coverage |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for t in targets_from_cmake():
        files = len(list((FUZZ / "corpus" / t).glob("*")))
        c = cov.get(t)
        cs = f"{c[0]}% of {c[1]} lines ({c[2]})" if c else "not measured"
        kind = "network" if t in NETWORK else "other"
        left = max(0, goal(t) - done.get(t, 0))
        mark = "" if left == 0 else " (short)"
        r = rate.get(t)
        rs = f"{r:,.0f}" if r else "-"
        hours = "0" if left == 0 else (f"{left / r / 3600:.1f}" if r else "-")
        print(f"| {t} | {kind} | {done.get(t, 0):,}{mark} | {goal(t):,} | {runs.get(t, 0)} | "
              f"{secs.get(t, 0)} | {cpus.get(t, '-')} | {rs} | {hours} | {crashes.get(t, 0)} | "
              f"{files} | {cs} |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--build", default=str(ROOT / "build" / "fuzz"))
    r.add_argument("--targets")
    r.add_argument("--runs", type=int, default=0, help="executions per target (default: to goal)")
    r.add_argument("--budget-s", type=float, default=3600, help="wall seconds for all targets")
    c = sub.add_parser("coverage")
    c.add_argument("--build", default=str(ROOT / "build" / "fuzz-coverage"))
    sub.add_parser("table")
    rt = sub.add_parser("rate")
    rt.add_argument("--build", default=str(ROOT / "build" / "fuzz"))
    rt.add_argument("--targets", required=True)
    rt.add_argument("--seconds", type=int, default=60, help="wall seconds per target")
    rt.add_argument("--runs", type=int, default=0, help="executions per target instead")
    rt.add_argument("--no-options", action="store_true", help="without fuzz/<target>.options")
    args = ap.parse_args()
    return {"run": cmd_run, "coverage": cmd_coverage, "table": cmd_table,
            "rate": cmd_rate}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
