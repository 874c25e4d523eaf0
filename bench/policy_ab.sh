#!/usr/bin/env bash
# policy_ab.sh: two greyflux binaries side by side under the same policy load, A B A B ...
#
# Each round starts binary A, then B, on a fresh data dir and a free loopback port, drives it
# with bench/gf_policy_load (closed loop, mode new: every request a new triplet, so each is a
# store write) for SECONDS, stops it by PID, and prints the load generator's line. The last lines
# are each side's median req/s, p99 and daemon CPU time (user + system, /proc) per answered
# request, and the ratio B/A. Alternating rounds let the shared
# machine's drift show as the spread within a side rather than as a difference between sides.
# Run it at nice 0 (a measurement) and note `uptime` with the figures.
#
# Usage: bash bench/policy_ab.sh A_BINARY B_BINARY [ROUNDS=3] [SECONDS=5] [CONNECTIONS=8]
#        (gf_policy_load from build/release/bench, or $GF_POLICY_LOAD)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
A=$1 B=$2 ROUNDS=${3:-3} SECS=${4:-5} CONNS=${5:-8}
LOAD=${GF_POLICY_LOAD:-$ROOT/build/release/bench/gf_policy_load}
ROOTOPT=$([ "$(id -u)" = 0 ] && echo "--set daemon.user=root" || true)
TMP=$(mktemp -d /tmp/gf-policy-ab.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
declare -A RPS P99 CPU
run_one() {  # side binary round
  local dir=$TMP/$1$3 port
  mkdir -p "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$2" serve --config "$ROOT/etc/greyflux.toml" $ROOTOPT --set daemon.data_dir="$dir" \
    --set store.path="$dir/db" --set "policy.listen=[\"127.0.0.1:$port\"]" --set 'http.listen=[]' \
    --set spamd.listen="[]" --set milter.listen="[]" --set flux.allowlist="" \
    --set log.file="$dir/log" &
  local pid=$!
  local line
  python3 -c 'import socket, sys, time
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close(); break
    except OSError:
        time.sleep(0.02)' "$port"
  local cpu0 cpu1 reqs
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  line=$("$LOAD" --target "127.0.0.1:$port" --connections "$CONNS" --duration "$SECS" --mode new)
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  kill -TERM "$pid"
  wait "$pid" || true
  # The daemon's CPU time (user + system) per answered request during the load.
  reqs=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
  line+=" cpu_us_per_req=$(awk -v t=$((cpu1 - cpu0)) -v hz="$(getconf CLK_TCK)" -v r="$reqs" \
    -v s="$SECS" 'BEGIN {printf "%.1f", t / hz * 1e6 / (r * s)}')"
  echo "$1 round $3: $line"
  RPS[$1]+="$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line") "
  P99[$1]+="$(sed -n 's/.* p99_us=\([0-9.]*\).*/\1/p' <<<"$line") "
  CPU[$1]+="$(sed -n 's/.* cpu_us_per_req=\([0-9.]*\).*/\1/p' <<<"$line") "
}
for r in $(seq 1 "$ROUNDS"); do
  run_one A "$A" "$r"
  run_one B "$B" "$r"
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ma=$(median <<<"${RPS[A]}") mb=$(median <<<"${RPS[B]}")
echo "A median rps $ma p99_us $(median <<<"${P99[A]}") cpu_us_per_req $(median <<<"${CPU[A]}")  ($A)"
echo "B median rps $mb p99_us $(median <<<"${P99[B]}") cpu_us_per_req $(median <<<"${CPU[B]}")  ($B)"
awk -v a="$ma" -v b="$mb" 'BEGIN {printf "B/A rps %.3f\n", b / a}'
