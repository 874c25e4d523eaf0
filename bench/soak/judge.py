"""The soak's verdict: "flat within noise", as a stated rule over the 10-s samples.

The judged span is the last --judge-minutes of the run (default 20; the last two thirds when the
run is shorter), so that warm-up (caches, the allocator's arenas, LMDB's first pages) is not
taken for a leak. The run passes when all of these hold:
  errors      no request failed, timed out or was left unsent at the end (a backlog: the door
              fell behind its schedule), on any door, in any window;
              and the daemon counted no protocol error, store error, fail-open or refused
              connection during the soak and logged no warning (soak.py checks these two);
  throughput  in every judged window each door completed its target rate within --rate-tol
              (default 10%): an open-loop client falls behind only when the server stalls;
  latency     every window's p99 on every door (from the scheduled send time) is at most
              --p99-bound-ms (default 1000 ms: a stall bound; the machine is shared, so a
              neighbour's build shows up in p99, see docs/reliability.md), and the p99 does not
              trend: the median window p99 of the judged span's last third is at most
              --p99-trend (default 2) times that of its first third plus 5 ms;
  memory      the anonymous RSS (RssAnon: heap and stacks; LMDB's mapped file pages are RssFile
              and grow with the stores, whose retention is days) grows over the judged span, by
              its least-squares line, by less than --rss-growth-pct (default 5%) of its mean plus
              2 MiB of allocator noise;
  descriptors the open fds' least-squares line grows by less than 5 over the judged span, and
              the last sample is within 16 of the span's first (the doors open and close
              connections all the time: spamd one per request, milter one per ten messages).
"""


def add_arguments(ap):
    ap.add_argument("--judge-minutes", type=float, default=20)
    ap.add_argument("--p99-bound-ms", type=float, default=1000)
    ap.add_argument("--p99-trend", type=float, default=2.0)
    ap.add_argument("--rate-tol", type=float, default=0.10)
    ap.add_argument("--rss-growth-pct", type=float, default=5.0)


def fitted_growth(ts, ys):
    """Least-squares slope times the span: the growth the trend line shows."""
    n = len(ts)
    if n < 2:
        return 0.0
    mt, my = sum(ts) / n, sum(ys) / n
    var = sum((t - mt) ** 2 for t in ts)
    slope = sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / var if var else 0.0
    return slope * (ts[-1] - ts[0])


def median(xs):
    return sorted(xs)[len(xs) // 2] if xs else None


def judge(rows, doors, rates, scheduled, windows, a):
    total_s = rows[-1]["t_s"]
    span_s = min(a.judge_minutes * 60, total_s * 2 / 3)
    span = [r for r in rows if r["t_s"] >= total_s - span_s]
    failures = []
    out = {"judged_span_s": [span[0]["t_s"], total_s]}

    per_door = {}
    for d in doors:
        ws = [w for (door, _), w in sorted(windows.items()) if door == d]
        errors = sum(w["errors"] for w in ws)
        unsent = sum(w.get("unsent", 0) for w in ws)
        done = sum(w["done"] for w in ws)
        p99s = [w["p99_ms"] for w in ws if w["p99_ms"] is not None]
        span_rps = [r[f"{d}_rps"] for r in span if r[f"{d}_rps"] != ""]
        per_door[d] = {"target_rps": rates[d], "scheduled": scheduled.get(d), "done": done,
                       "errors": errors, "unsent_at_end": unsent, "p99_ms_min": min(p99s, default=None),
                       "p99_ms_median": sorted(p99s)[len(p99s) // 2] if p99s else None,
                       "p99_ms_max": max(p99s, default=None),
                       "rps_min": min(span_rps, default=None),
                       "rps_max": max(span_rps, default=None)}
        if errors:
            failures.append(f"{d}: {errors} errors")
        if scheduled.get(d) is None or done != scheduled[d]:
            failures.append(f"{d}: {done} answered of {scheduled.get(d)} scheduled "
                            f"({unsent} never sent: the door fell behind its schedule)")
        if not p99s or max(p99s) > a.p99_bound_ms:
            failures.append(f"{d}: window p99 up to {max(p99s, default=None)} ms > "
                            f"{a.p99_bound_ms} ms")
        span_p99 = [r[f"{d}_p99_ms"] for r in span if r[f"{d}_p99_ms"] != ""]
        third = max(1, len(span_p99) // 3)
        first, last = median(span_p99[:third]), median(span_p99[-third:])
        per_door[d]["p99_ms_median_first_last_third"] = [first, last]
        if first is None or last is None or last > a.p99_trend * first + 5:
            failures.append(f"{d}: p99 trends up over the judged span: {first} -> {last} ms")
        low = [x for x in span_rps if abs(x - rates[d]) > a.rate_tol * rates[d]]
        if low or len(span_rps) < len(span) - 1:
            failures.append(f"{d}: {len(low)} judged windows off the target {rates[d]}/s by "
                            f"more than {a.rate_tol:.0%}")
    out["doors"] = per_door

    ts = [r["t_s"] for r in span]
    anon = [r["RssAnon_kib"] for r in span]
    grow_kib = fitted_growth(ts, anon)
    allowed_kib = a.rss_growth_pct / 100 * (sum(anon) / len(anon)) + 2048
    out["memory"] = {
        "VmRSS_kib_start_end": [rows[0]["VmRSS_kib"], rows[-1]["VmRSS_kib"]],
        "RssAnon_kib_start_end": [rows[0]["RssAnon_kib"], rows[-1]["RssAnon_kib"]],
        "RssFile_kib_start_end": [rows[0]["RssFile_kib"], rows[-1]["RssFile_kib"]],
        "RssAnon_kib_span_min_max": [min(anon), max(anon)],
        "RssAnon_fitted_growth_over_span_kib": round(grow_kib),
        "allowed_kib": round(allowed_kib)}
    if grow_kib >= allowed_kib:
        failures.append(f"RssAnon grows {grow_kib:.0f} KiB over the judged span "
                        f"(allowed {allowed_kib:.0f})")

    fds = [r["fds"] for r in span]
    fd_growth = fitted_growth(ts, fds)
    out["fds"] = {"start_end": [rows[0]["fds"], rows[-1]["fds"]],
                  "span_min_max": [min(fds), max(fds)],
                  "fitted_growth_over_span": round(fd_growth, 2)}
    if fd_growth >= 5 or fds[-1] > fds[0] + 16:
        failures.append(f"fds grow: fitted {fd_growth:.1f} over the span, {fds[0]} -> {fds[-1]}")
    out["threads_start_end"] = [rows[0]["threads"], rows[-1]["threads"]]
    loads = [r["load1"] for r in rows]
    out["load1_min_median_max"] = [min(loads), sorted(loads)[len(loads) // 2], max(loads)]
    out["failures"] = failures
    out["pass"] = not failures
    return out
