#!/usr/bin/env bash
# The milter benchmark (issue 14): greyflux's milter against Debian's Rspamd proxy worker in
# milter mode, same load generator, same messages, same run.
#
#   bash bench/milter/run.sh [BUILD_DIR]            (default build/release; needs root)
#
# 1. The SpamAssassin corpus (bench/sa_corpus.py -> BUILD_DIR/../corpus/manifest.tsv).
# 2. Rspamd (lib.sh): stock /etc/rspamd rules, local only (network modules off), Redis from
#    Debian, the DNS stub as its resolver; its Bayes learns RSPAMD_LEARN spam + ham of the
#    training half through the controller (default 200 each, Rspamd's minimum to classify).
#    Waits until the normal workers have their hyperscan database (cached in BUILD_DIR/rspamd-hs
#    across runs; the first run compiles it for a few minutes).
# 3. greyflux, if its build has `[milter] listen` (else says so and measures Rspamd alone): the
#    mail model learned from the training half (`greyflux learn`), LMDB store,
#    greylist.mode = "suspicious" (Rspamd's greylist module also greylists by score).
# 4. gf_milter_load against each with the test half: a short warm-up, then RUN_S seconds
#    (default 20) over CONNECTIONS (default 16) connections, PER_CONNECTION (default 10)
#    messages per connection. Prints msg/s, p50/p99, the verdicts, the servers' CPU seconds per
#    1,000 messages (Rspamd: all its processes + Redis + the DNS stub), the ratio, and whether
#    any of them held a connection outside loopback.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$repo/build/release}" && pwd)" || { echo "no build dir" >&2; exit 1; }
source "$here/lib.sh"

connections="${CONNECTIONS:-16}"
run_s="${RUN_S:-20}"
per_conn="${PER_CONNECTION:-10}"
learn_n="${RSPAMD_LEARN:-200}"
load="$build/bench/gf_milter_load"
greyflux="${GREYFLUX:-$build/greyflux}"  # GREYFLUX=path measures another build

[ "$(id -u)" -eq 0 ] || die "run as root (Rspamd drops to _rspamd, Redis and the DNS stub bind ports)"
for c in rspamd rspamc redis-server python3 ss; do
  command -v "$c" >/dev/null || die "'$c' missing: bash scripts/deps.sh bench"
done
[ -x "$load" ] || die "$load missing: cmake --build $build --target gf_milter_load"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gf-milter-bench.XXXXXX")" || die "mktemp failed"
chmod 0755 "$tmp"
trap 'stop_all; [ "${GF_KEEP_TMP:-0}" = 1 ] && echo "files kept in $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# ---- corpus -----------------------------------------------------------------------------------
corpus="$(dirname "$build")/corpus"
python3 "$repo/bench/sa_corpus.py" "$corpus" >/dev/null || die "corpus install failed"
manifest="$corpus/manifest.tsv"
awk -F'\t' '$3 == "train" && $2 == "spam" {print $1}' "$manifest" >"$tmp/train.spam"
awk -F'\t' '$3 == "train" && $2 == "ham" {print $1}' "$manifest" >"$tmp/train.ham"
log "corpus: $(wc -l <"$manifest") messages; test half $(awk -F'\t' '$3 == "test"' "$manifest" | wc -l)"

# ---- does this greyflux have a milter? --------------------------------------------------------
have_gf_milter=0
if gf_has_milter "$greyflux"; then
  have_gf_milter=1
else
  log "greyflux at $greyflux has no [milter] listen setting (the milter server has not landed" \
    "in this build): measuring Rspamd alone"
fi

# cpu_ticks PID...: user + system clock ticks of those processes so far.
cpu_ticks() {
  local sum=0 p t
  for p in "$@"; do
    t="$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null)" || continue
    sum=$((sum + ${t:-0}))
  done
  echo "$sum"
}
hz="$(getconf CLK_TCK)"

# measure NAME PORT PIDS...: a warm-up, then the timed run; sets rate_<NAME>, p50_, p99_.
measure() {
  local name="$1" port="$2"
  shift 2
  "$load" "$port" "$manifest" --half test --connections "$connections" --count 400 \
    --per-connection "$per_conn" >"$tmp/warmup.$name" 2>&1 ||
    { cat "$tmp/warmup.$name"; die "$name: warm-up failed"; }
  log "$name: load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
  local pids=("$@") before after out
  before="$(cpu_ticks "${pids[@]}")"
  echo "\$ $load $port $manifest --half test --connections $connections --seconds $run_s" \
    "--count 100000000 --per-connection $per_conn"
  out="$("$load" "$port" "$manifest" --half test --connections "$connections" --seconds "$run_s" \
    --count 100000000 --per-connection "$per_conn" 2>&1)"
  local rc=$?
  after="$(cpu_ticks "${pids[@]}")"
  echo "$out" | sed "s/^/  $name: /"
  [ "$rc" -eq 0 ] || die "$name: messages failed (see above)"
  local n
  n="$(echo "$out" | sed -nE 's/.*: ([0-9]+) ok,.*/\1/p')"
  printf -v "rate_$name" '%s' "$(echo "$out" | sed -nE 's/.*= ([0-9.]+) msg\/s.*/\1/p')"
  printf -v "p50_$name" '%s' "$(echo "$out" | sed -nE 's/.*p50 ([0-9.]+) .*/\1/p')"
  printf -v "p99_$name" '%s' "$(echo "$out" | sed -nE 's/.*p99 ([0-9.]+) .*/\1/p')"
  printf -v "cpu_$name" '%s' "$(awk -v t=$((after - before)) -v hz="$hz" -v n="$n" \
    'BEGIN{printf "%.2f", n ? t / hz / n * 1000 : 0}')"
  local c="cpu_$name"
  log "$name: server CPU $(awk -v t=$((after - before)) -v hz="$hz" -v s="$run_s" \
    'BEGIN{printf "%.1f s over the run (%.2f cores)", t / hz, t / hz / s}') = ${!c} CPU s per" \
    "1,000 messages; /proc/pressure/cpu: $(head -n 1 /proc/pressure/cpu 2>/dev/null | cut -d' ' -f2)"
}

# ---- Rspamd -----------------------------------------------------------------------------------
start_redis "$tmp/redis"
redis_pid="${started_pids[-1]}"
start_dns_stub "$tmp"
dns_pid="${started_pids[-1]}"
start_rspamd "$tmp/rspamd" "$(dirname "$build")/rspamd-hs"
rspamd_pid="${started_pids[-1]}"

wait_rspamd_hyperscan "$tmp/rspamd"
[ "$learn_n" -gt 0 ] && rspamd_learn "$tmp" "$learn_n"

rspamd_pids=("$rspamd_pid" $(pgrep -P "$rspamd_pid") "$redis_pid" "$dns_pid")
measure rspamd "$rspamd_milter_port" "${rspamd_pids[@]}"
offl="$(offloopback 'rspamd|redis-server|python3')"
log "rspamd: sockets to peers outside loopback: ${offl:-none}"
log "DNS stub: $(kill -TERM "$dns_pid"; sleep 0.5; tail -n 1 "$tmp/dns_stub.log")"
stop_all

# ---- greyflux ---------------------------------------------------------------------------------
if [ "$have_gf_milter" = 1 ]; then
  start_greyflux_milter "$tmp/gf" "$greyflux" "$tmp/train.spam" "$tmp/train.ham"
  gf_pid="${started_pids[-1]}"
  measure greyflux "$gf_milter_port" "$gf_pid"
  offl="$(offloopback greyflux)"
  log "greyflux: sockets to peers outside loopback: ${offl:-none}"
  stop_all
fi

# ---- summary ----------------------------------------------------------------------------------
echo
echo "== milter, $connections connections, $per_conn messages per connection, ${run_s} s each =="
printf '%-10s %10s %10s %10s %16s\n' server msg/s "p50 ms" "p99 ms" "CPU s/1k msg"
printf '%-10s %10s %10s %10s %16s\n' rspamd "$rate_rspamd" "$p50_rspamd" "$p99_rspamd" "$cpu_rspamd"
if [ "$have_gf_milter" = 1 ]; then
  printf '%-10s %10s %10s %10s %16s\n' greyflux "$rate_greyflux" "$p50_greyflux" "$p99_greyflux" \
    "$cpu_greyflux"
  awk -v g="$rate_greyflux" -v r="$rate_rspamd" -v gc="$cpu_greyflux" -v rc="$cpu_rspamd" 'BEGIN {
    printf "greyflux / rspamd: %.1fx msg/s, %.1fx less CPU per message\n", g / r, (gc > 0 ? rc / gc : 0)
    printf "targets: >= 2,000 msg/s: %s; >= 5x Rspamd: %s\n", (g >= 2000 ? "met" : "NOT met"),
      (g >= 5 * r ? "met" : "NOT met") }'
  awk -v gc="$cpu_greyflux" -v rc="$cpu_rspamd" 'BEGIN {
    printf "what the measured CPU per message would allow on 2 idle cores: greyflux %.0f msg/s, " \
      "rspamd %.0f msg/s (an estimate, not a measurement)\n", (gc > 0 ? 2000 / gc : 0), (rc > 0 ? 2000 / rc : 0) }'
else
  echo "greyflux: not measured, this build has no [milter] listen (issue 14's server not landed)"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared 2-core machine)"
