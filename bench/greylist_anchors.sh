#!/usr/bin/env bash
# greylist_anchors.sh: greyflux's greylisting policy server against its anchors, postgrey (Debian
# /usr/sbin/postgrey) and gross (/usr/sbin/grossd), in one run on one machine.
#
# Each server runs alone, on its own free 127.0.0.1 port, with its own temp state directory, and is
# stopped by PID before the next starts. The load comes from bench/gf_policy_load (Postfix-shaped
# RCPT-stage policy requests over persistent connections, one request in flight each). Modes:
#   new     every request is a never-seen triplet           (store insert, DEFER)
#   within  retries of K triplets before the delay expired (lookup, DEFER)
#   after   retries of K triplets after the delay expired  (first pass PREPEND, then DUNNO)
# Fairness: all servers get the same delay (long for new/within, short for after, with a wait
# longer than it between --prepare and the timed run), client auto-whitelisting is off
# (postgrey --auto-whitelist-clients=0; greyflux auto_whitelist_after = 0 and
# domain_auto_whitelist_after = 0; gross has none), every server logs one line per decision to a
# file (greyflux at log level info), greyflux and postgrey read the same Debian postgrey whitelist
# files, and greyflux keeps its durable default (LMDB, fsync on each group commit). greyflux
# serves only the policy protocol (no comment API listener; its store under the temp dir).
# gross runs as a traditional greylister: postfix protocol, no checks, grey_threshold = 0 (its
# DNSBL and Sophos-blocker checks would need network access, which this benchmark never uses).
#
# greyflux extras: (a) p99 at a fixed open-loop rate (default 10,000 req/s), (b) throughput with
# the gf_slow_fsync LD_PRELOAD shim (every fsync/fdatasync/msync(MS_SYNC) 20 ms slower) over
# without, as alternating fresh pairs, (c) LMDB bytes per stored triplet after N and after
# 1,000,000 triplets, and RSS with 1,000,000 triplets stored.
#
# Measured per run: req/s, latency p50/p99/max from send to full reply, errors, the reply actions,
# the server's CPU time per request (/proc/PID/stat, all threads), the generator's own CPU time
# per request, and the server's fsync+fdatasync+msync(MS_SYNC) calls per request with their mean
# duration. The counts come from gf_slow_fsync preloaded into every server at 0 ms delay (it only
# counts; --no-shim turns it off). postgrey turns out to sync once per request, so its rate
# follows the disk's fsync latency, which other load on a shared machine moves by 10x or more;
# the CPU-per-request ratios are the comparison least affected by that.
#
# Usage: bash bench/greylist_anchors.sh BUILD_DIR [--quick] [options]
#   BUILD_DIR holds greyflux and bench/gf_policy_load (and bench/libgf_slow_fsync.so).
#   --quick            3 s per mode, K = 2000 (default: 10 s per mode, K = 10000)
#   --duration S       seconds per timed run
#   --connections N    persistent connections (default 32)
#   --seed-count K     triplets for within/after
#   --servers LIST     comma list of postgrey,gross,greyflux (default: all that exist)
#   --triplets N       triplets for the storage measurement (default 1000000; 0 skips it)
#   --rate R           open-loop rate for extra (a) (default 10000)
#   --fsync-ms MS      delay of the slow-fsync shim (default 20)
#   --fsync-rounds N   normal/slowed instance pairs for (b) (default 3)
#   --keep             keep the temp directory (logs, stores) instead of deleting it
#   --no-shim          do not preload gf_slow_fsync (at 0 ms) to count each server's fsyncs
# The machine's cores are shared by the server and the generator; both are reported as measured.
set -euo pipefail

die() {
  echo "greylist_anchors: $*" >&2
  exit 2
}

[ $# -ge 1 ] || die "usage: bash bench/greylist_anchors.sh BUILD_DIR [--quick] [options]"
BUILD=$(cd "$1" && pwd) || die "no build dir $1"
shift
QUICK=0 KEEP=0 DUR="" CONNS=32 K="" SERVERS="" TRIPLETS=1000000 RATE=10000
FSYNC_MS=20 FSYNC_ROUNDS=3 USE_SHIM=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --keep) KEEP=1 ;;
    --no-shim) USE_SHIM=0 ;;
    --duration) DUR=$2; shift ;;
    --connections) CONNS=$2; shift ;;
    --seed-count) K=$2; shift ;;
    --servers) SERVERS=$2; shift ;;
    --triplets) TRIPLETS=$2; shift ;;
    --rate) RATE=$2; shift ;;
    --fsync-ms) FSYNC_MS=$2; shift ;;
    --fsync-rounds) FSYNC_ROUNDS=$2; shift ;;
    *) die "unknown option $1" ;;
  esac
  shift
done
if [ "$QUICK" = 1 ]; then
  : "${DUR:=3}" "${K:=2000}"
else
  : "${DUR:=10}" "${K:=10000}"
fi
DELAY_LONG=300   # new and within: nothing may pass during a run
DELAY_SHORT=2    # after: short, so the wait between --prepare and the run stays short
SMALL_N=100000   # first storage measurement point
[ "$TRIPLETS" -gt 0 ] && [ "$TRIPLETS" -lt "$SMALL_N" ] && SMALL_N=$TRIPLETS

LOAD=$BUILD/bench/gf_policy_load
SHIM=$BUILD/bench/libgf_slow_fsync.so
GREYFLUX=$BUILD/greyflux
[ -x "$LOAD" ] || die "$LOAD not built (cmake --build $BUILD)"
[ -f "$SHIM" ] || USE_SHIM=0

if [ -z "$SERVERS" ]; then
  SERVERS=""
  [ -x /usr/sbin/postgrey ] && SERVERS+="postgrey,"
  [ -x /usr/sbin/grossd ] && SERVERS+="gross,"
  [ -x "$GREYFLUX" ] && SERVERS+="greyflux,"
  SERVERS=${SERVERS%,}
fi
IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
[ ${#SERVER_LIST[@]} -gt 0 ] || die "no server to benchmark"

TMP=$(mktemp -d /tmp/gf-anchors.XXXXXX)
# postgrey and grossd drop root for postgrey/nobody; they must reach their files below TMP.
chmod 755 "$TMP"
STARTED=()  # PIDs of servers this script started and has not stopped yet
cleanup() {
  local pid
  for pid in "${STARTED[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${STARTED[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  if [ "$KEEP" = 1 ]; then
    echo "greylist_anchors: kept $TMP" >&2
  else
    rm -rf "$TMP"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "# $*" >&2; }

# ---- ports, readiness, stopping ----------------------------------------------------------------

# free_port: a port below the ephemeral range (where the generator's own sockets, some in
# TIME_WAIT, live) with no socket of any state on it.
free_port() {
  local p i lo
  lo=$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  [ "$lo" -gt 12000 ] || lo=32768
  for i in $(seq 1 100); do
    p=$((10000 + RANDOM % (lo - 10000)))
    if [ -z "$(ss -Htan "sport = :$p" 2>/dev/null)" ]; then
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# wait_ready PID PORT: until 127.0.0.1:PORT accepts a connection (at most 20 s) or PID exits.
wait_ready() {
  local pid=$1 port=$2 i
  for i in $(seq 1 400); do
    if ! kill -0 "$pid" 2>/dev/null; then
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}

# stop_server PID: SIGTERM, wait up to 15 s, then SIGKILL.
stop_server() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "pid $pid ignored SIGTERM for 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  local keep=()
  for i in "${STARTED[@]}"; do
    [ "$i" = "$pid" ] || keep+=("$i")
  done
  STARTED=("${keep[@]+"${keep[@]}"}")
}

# ---- starting each server: start_NAME DIR DELAY_S [extra env] -> sets PID and PORT -------------

start_postgrey() {
  local dir=$1 delay=$2 user=postgrey group=postgrey
  id postgrey >/dev/null 2>&1 || { user=nobody; group=nogroup; }
  mkdir -p "$dir/db"
  [ "$(id -u)" = 0 ] && chown "$user:$group" "$dir/db"
  PORT=$(free_port)
  local args=(--inet="127.0.0.1:$PORT" --dbdir="$dir/db" --delay="$delay"
    --auto-whitelist-clients=0 --hostname=bench)
  [ "$(id -u)" = 0 ] && args+=(--user="$user" --group="$group")
  env "${SHIM_ENV[@]}" /usr/sbin/postgrey "${args[@]}" >"$dir/server.log" 2>&1 &
  PID=$!
}

start_gross() {
  local dir=$1 delay=$2
  mkdir -p "$dir"
  if [ -n "$(ss -Htln 'sport = :5522' 2>/dev/null)" ]; then
    log "gross: its status port 5522 (not configurable in 1.0.2) is in use; it may fail"
  fi
  PORT=$(free_port)
  cat >"$dir/grossd.conf" <<EOF
# Traditional greylisting: no checks, every unseen triplet is greylisted.
host = 127.0.0.1
port = $PORT
protocol = postfix
grey_threshold = 0
grey_delay = $delay
grey_mask = 24
update = grey
log_level = info
EOF
  # -d: foreground, logging to the terminal (a file here); -r: no replication peer.
  env "${SHIM_ENV[@]}" /usr/sbin/grossd -d -r -f "$dir/grossd.conf" >"$dir/server.log" 2>&1 &
  PID=$!
}

# start_greyflux DIR DELAY_S [LOG_LEVEL]
start_greyflux() {
  local dir=$1 delay=$2 level=${3:-info}
  mkdir -p "$dir"
  PORT=$(free_port)
  local wl_c="" wl_r=""
  [ -f /etc/postgrey/whitelist_clients ] && wl_c='"/etc/postgrey/whitelist_clients"'
  [ -f /etc/postgrey/whitelist_recipients ] && wl_r='"/etc/postgrey/whitelist_recipients"'
  cat >"$dir/greyflux.toml" <<EOF
[store]
backend = "lmdb"
path = "$dir/greylist.lmdb"
commit_interval = "100ms"
[policy]
listen = ["127.0.0.1:$PORT"]
[greylist]
delay = "${delay}s"
auto_whitelist_after = 0
domain_auto_whitelist_after = 0
pooled_senders = false
whitelist_clients = [$wl_c]
whitelist_recipients = [$wl_r]
[admin]
socket = "$dir/admin.sock"
[http]
listen = []
[akismet]
store_path = "$dir/akismet.lmdb"
[log]
level = "$level"
file = "$dir/greyflux.log"
EOF
  env "${SHIM_ENV[@]}" "$GREYFLUX" serve --config "$dir/greyflux.toml" --set daemon.user=root >"$dir/server.log" 2>&1 &
  PID=$!
}

# start NAME DIR DELAY [args]: starts a server and waits until it accepts connections.
# With the shim (default), every server runs under gf_slow_fsync: GF_SLOW_FSYNC_MS=0 only counts
# fsync calls and their duration; SHIM_MS set by the caller slows them down.
start() {
  local name=$1 dir=$2
  shift 2
  SHIM_ENV=()
  if [ "$USE_SHIM" = 1 ]; then
    mkdir -p "$dir"
    SHIM_ENV=(LD_PRELOAD="$SHIM" GF_SLOW_FSYNC_MS="${SHIM_MS:-0}"
      GF_SLOW_FSYNC_STATS="$dir/fsync.stats")
  fi
  FSYNC_STATS=$dir/fsync.stats
  "start_$name" "$dir" "$@"
  STARTED+=("$PID")
  if ! wait_ready "$PID" "$PORT"; then
    log "$name did not become ready on 127.0.0.1:$PORT; last log lines:"
    tail -5 "$dir/server.log" >&2 || true
    stop_server "$PID"
    return 1
  fi
}

# ---- load runs and results ---------------------------------------------------------------------

declare -A R  # R[server,mode,key] = value from the generator's result line
RESULTS=$TMP/results.txt

field() {  # field LINE KEY
  grep -oE "(^| )$2=[^ ]*" <<<"$1" | head -1 | cut -d= -f2- || true
}

ratio() {  # ratio A B -> A/B with 2 decimals, or - when missing
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a == "" || b == "" || b + 0 == 0) { print "-" } else { printf "%.2f", a / b } }'
}

# fsync_read: "calls real_ns slept_ns" from the shim's stats file of the current server.
fsync_read() {
  if [ -f "$FSYNC_STATS" ]; then
    od -An -v -t u8 -N24 "$FSYNC_STATS" | tr -s ' \n' ' '
  fi
}

# cpu_ticks PID: user + system clock ticks of a process, all its threads (0 when gone).
cpu_ticks() {
  local t
  t=$(sed -e 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }')
  echo "${t:-0}"
}
CLK_TCK=$(getconf CLK_TCK)

# load TAG [generator args...]: runs gf_policy_load against 127.0.0.1:$PORT, prints and keeps
# its result line in LAST. A hard timeout bounds every run.
load() {
  local tag=$1
  shift
  local limit=$((${DUR%.*} + 60)) a
  for a in "$@"; do
    [ "$a" = --requests ] && limit=660
  done
  local cpu0 cpu1 ok c0 n0 c1 n1 x
  cpu0=$(cpu_ticks "$PID")
  read -r c0 n0 x <<<"$(fsync_read)" || true
  LAST=$(timeout "$limit" "$LOAD" --target "127.0.0.1:$PORT" --connections "$CONNS" "$@" \
    2>>"$TMP/load.err") || true
  cpu1=$(cpu_ticks "$PID")
  read -r c1 n1 x <<<"$(fsync_read)" || true
  [ -n "$LAST" ] || LAST="mode=failed errors=all"
  # server CPU time per answered request: comparable even when other processes share the cores
  ok=$(field "$LAST" ok)
  LAST+=" server_cpu_us_per_req=$(awk -v t="$((cpu1 - cpu0))" -v hz="$CLK_TCK" -v n="${ok:-0}" \
    'BEGIN { if (n > 0) printf "%.1f", t / hz * 1e6 / n; else print "-" }')"
  if [ -n "$c0" ] && [ -n "$c1" ]; then
    LAST+=$(awk -v c="$((c1 - c0))" -v ns="$((n1 - n0))" -v n="${ok:-0}" 'BEGIN {
      printf " fsync_calls=%d fsync_per_req=%s fsync_avg_us=%s", c,
        (n > 0 ? sprintf("%.3f", c / n) : "-"),
        (c > 0 ? sprintf("%.0f", ns / c / 1000) : "-") }')
  fi
  echo "$tag $LAST" >>"$RESULTS"
  log "$tag $LAST"
}

keep_result() {  # keep_result SERVER MODE
  local k
  for k in rps p50_us p99_us max_us errors actions server_cpu_us_per_req fsync_per_req \
    fsync_avg_us gen_cpu_us_per_req; do
    R[$1,$2,$k]=$(field "$LAST" "$k")
  done
}

# bench_server NAME [START_ARGS...]: the three modes against a fresh instance per delay.
bench_server() {
  local name=$1
  shift
  log "== $name: new, within (delay ${DELAY_LONG}s)"
  if start "$name" "$TMP/$name-long" "$DELAY_LONG" "$@"; then
    load "$name" --mode new --duration "$DUR"
    keep_result "$name" new
    load "$name" --prepare --seed-count "$K" --seed-salt 101
    load "$name" --mode within --seed-count "$K" --seed-salt 101 --duration "$DUR"
    keep_result "$name" within
    stop_server "$PID"
  fi
  log "== $name: after (delay ${DELAY_SHORT}s)"
  if start "$name" "$TMP/$name-short" "$DELAY_SHORT" "$@"; then
    load "$name" --prepare --seed-count "$K" --seed-salt 202
    sleep "$((DELAY_SHORT + 1)).5"  # longer than the server's delay since the last prepare
    load "$name" --mode after --seed-count "$K" --seed-salt 202 --duration "$DUR"
    keep_result "$name" after
    stop_server "$PID"
  fi
}

START_TIME=$(date +%s)
LOAD_BEFORE=$(cut -d" " -f1-3 /proc/loadavg)
log "servers: ${SERVER_LIST[*]}; ${DUR}s per mode, $CONNS connections, K=$K, $(nproc) cores"
for s in "${SERVER_LIST[@]}"; do
  case "$s" in
    postgrey | gross | greyflux) bench_server "$s" ;;
    *) die "unknown server $s" ;;
  esac
done

# ---- greyflux extras ---------------------------------------------------------------------------

has_greyflux=0
for s in "${SERVER_LIST[@]}"; do [ "$s" = greyflux ] && has_greyflux=1; done

declare -A X  # extra results
FLOOR=$BUILD/bench/gf_policy_floor
if [ -x "$FLOOR" ]; then
  # The floor: a policy responder that does nothing but answer DUNNO. What it reaches here is
  # what this machine's cores and loopback allow any policy server, greyflux included.
  log "== floor: gf_policy_floor, closed loop and open loop at $RATE req/s"
  PORT=$(free_port)
  "$FLOOR" "$PORT" & PID=$!
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.05; done
  load floor-closed --mode new --duration "$DUR"
  X[floor_closed]=$LAST
  load floor-rate --mode new --rate "$RATE" --duration "$DUR"
  X[floor_rate]=$LAST
  kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true
fi
if [ "$has_greyflux" = 1 ]; then
  log "== greyflux (a): open loop at $RATE req/s, mode new, log level info"
  if start greyflux "$TMP/gf-rate" "$DELAY_LONG"; then
    load open-loop --mode new --rate "$RATE" --duration "$DUR"
    X[rate_line]=$LAST
    stop_server "$PID"
  fi

  # Fresh instances, normal and slowed alternately, FSYNC_ROUNDS times: on a shared machine one
  # pair can differ by 2x from load alone, so the report gives every pair and the median ratio.
  log "== greyflux (b): closed loop, mode new, without and with the ${FSYNC_MS} ms fsync shim"
  X[fsync_pairs]="" X[fsync_ratios]="" X[fsync_calls]=""
  for r in $(seq 1 "$FSYNC_ROUNDS"); do
    off="" on=""
    if start greyflux "$TMP/gf-fsync-off-$r" "$DELAY_LONG"; then
      load "fsync-normal-$r" --mode new --duration "$DUR"
      off=$(field "$LAST" rps)
      stop_server "$PID"
    fi
    if [ -f "$SHIM" ] \
      && USE_SHIM=1 SHIM_MS=$FSYNC_MS start greyflux "$TMP/gf-fsync-on-$r" "$DELAY_LONG"; then
      load "fsync-slow-$r" --mode new --duration "$DUR"
      on=$(field "$LAST" rps)
      stop_server "$PID"
      X[fsync_calls]+=" $(grep -o 'calls=[0-9]*' "$TMP/gf-fsync-on-$r/server.log" \
        | tail -1 || true)"
    fi
    X[fsync_pairs]+=" ${off:--}/${on:--}"
    X[fsync_ratios]+=" $(ratio "$on" "$off")"
  done

  if [ "$TRIPLETS" -gt 0 ]; then
    log "== greyflux (c): storage after $SMALL_N and $TRIPLETS triplets (log level warn: size run)"
    if start greyflux "$TMP/gf-store" "$DELAY_LONG" warn; then
      store_dir=$TMP/gf-store/greylist.lmdb
      # settle N: waits until the committed store holds N triplets (mdb_stat), or without mdb_stat
      # until data.mdb kept its size for 1 s; at most 60 s. Group commits lag the replies.
      settle() {
        local n=$1 i cur last="" stable=0 entries
        for i in $(seq 1 240); do
          if command -v mdb_stat >/dev/null; then
            entries=$(mdb_stat -a "$store_dir" | awk '/Entries:/ { e += $NF } END { print e + 0 }')
            [ "$entries" -lt "$n" ] || return 0
          else
            cur=$(stat -c %s "$store_dir/data.mdb")
            if [ "$cur" = "$last" ]; then
              stable=$((stable + 1))
              [ "$stable" -lt 4 ] || return 0
            else
              stable=0
            fi
            last=$cur
          fi
          sleep 0.25
        done
        log "greyflux store did not settle at $n triplets within 60 s"
      }
      # measure N: sizes once N triplets are committed.
      measure() {
        local n=$1
        settle "$n"
        X[size_$n]=$(stat -c %s "$store_dir/data.mdb")
        X[du_$n]=$(du -B1 "$store_dir/data.mdb" | cut -f1)
        if command -v mdb_stat >/dev/null; then
          # pages in the B-trees (all databases), and the entries they hold
          read -r X[tree_$n] X[entries_$n] < <(mdb_stat -a "$store_dir" | awk '
            /Branch pages:|Leaf pages:|Overflow pages:/ { p += $NF }
            /Entries:/ { e += $NF; if (first == "") first = $NF }
            END { print p, e }')
          X[psize]=$(mdb_stat -e "$store_dir" | awk '/Page size:/ { print $NF }')
        fi
      }
      load store-fill --mode new --requests "$SMALL_N" --duration 600
      X[fill1]=$LAST
      measure "$SMALL_N"
      if [ "$TRIPLETS" -gt "$SMALL_N" ]; then
        load store-fill --mode new --requests "$((TRIPLETS - SMALL_N))" --duration 600
        X[fill2]=$LAST
        measure "$TRIPLETS"
      fi
      X[rss]=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status")
      X[rss_anon]=$(awk '/^RssAnon:/ { print $2 }' "/proc/$PID/status")
      X[rss_file]=$(awk '/^RssFile:/ { print $2 }' "/proc/$PID/status")
      stop_server "$PID"
    fi
  fi
fi

# ---- report ------------------------------------------------------------------------------------

echo
echo "greylisting anchors: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores shared by server and" \
  "generator, $CONNS connections, closed loop, ${DUR} s per run"
echo "delay ${DELAY_LONG} s for new/within, ${DELAY_SHORT} s for after; K=$K seeded triplets;" \
  "auto-whitelisting off; decisions logged (greyflux log level info)"
echo "load average before $LOAD_BEFORE, after $(cut -d" " -f1-3 /proc/loadavg) (other processes" \
  "share the cores; cpu_us/rq = server CPU time per answered request is less sensitive to that;" \
  "gen_us/rq = the load generator's own CPU time per request, taken from the same cores)"
if [ "$USE_SHIM" = 1 ]; then
  echo "fsync/rq = fsync+fdatasync+msync(MS_SYNC) calls per answered request," \
    "fsync_us = their mean" \
    "duration (counted by gf_slow_fsync preloaded at 0 ms delay into every server)"
fi
echo "postgrey $(dpkg-query -W -f='${Version}' postgrey 2>/dev/null || echo '?')," \
  "gross $(dpkg-query -W -f='${Version}' gross 2>/dev/null || echo '?')," \
  "greyflux $("$GREYFLUX" --version 2>/dev/null | head -1 || echo '?') (LMDB, sync on)"
echo
printf '%-7s %-9s %8s %8s %8s %8s %6s %9s %9s %8s %8s  %s\n' mode server req/s p50_us p99_us \
  max_us errors cpu_us/rq gen_us/rq fsync/rq fsync_us actions
for m in new within after; do
  for s in "${SERVER_LIST[@]}"; do
    printf '%-7s %-9s %8s %8s %8s %8s %6s %9s %9s %8s %8s  %s\n' "$m" "$s" \
      "${R[$s,$m,rps]:--}" "${R[$s,$m,p50_us]:--}" "${R[$s,$m,p99_us]:--}" \
      "${R[$s,$m,max_us]:--}" "${R[$s,$m,errors]:--}" "${R[$s,$m,server_cpu_us_per_req]:--}" \
      "${R[$s,$m,gen_cpu_us_per_req]:--}" \
      "${R[$s,$m,fsync_per_req]:--}" "${R[$s,$m,fsync_avg_us]:--}" "${R[$s,$m,actions]:--}"
  done
done

if [ "$has_greyflux" = 1 ]; then
  echo
  echo "ratios (higher favours greyflux): greyflux req/s over anchor req/s; anchor p99 over"
  echo "greyflux p99; anchor server CPU per request over greyflux's (the least load-sensitive)"
  printf '%-7s %13s %13s %13s %13s %13s %13s\n' mode rps/postgrey rps/gross p99:postgrey \
    p99:gross cpu:postgrey cpu:gross
  server_cpu() { echo "${R[$1,$2,server_cpu_us_per_req]:-}"; }
  for m in new within after; do
    printf '%-7s %13s %13s %13s %13s %13s %13s\n' "$m" \
      "$(ratio "${R[greyflux,$m,rps]:-}" "${R[postgrey,$m,rps]:-}")" \
      "$(ratio "${R[greyflux,$m,rps]:-}" "${R[gross,$m,rps]:-}")" \
      "$(ratio "${R[postgrey,$m,p99_us]:-}" "${R[greyflux,$m,p99_us]:-}")" \
      "$(ratio "${R[gross,$m,p99_us]:-}" "${R[greyflux,$m,p99_us]:-}")" \
      "$(ratio "$(server_cpu postgrey "$m")" "$(server_cpu greyflux "$m")")" \
      "$(ratio "$(server_cpu gross "$m")" "$(server_cpu greyflux "$m")")"
  done

  echo
  if [ -n "${X[floor_closed]:-}" ]; then
    echo "(floor) gf_policy_floor (answers DUNNO, no work): closed loop" \
      "$(field "${X[floor_closed]}" rps) req/s; open loop at $RATE req/s: p50" \
      "$(field "${X[floor_rate]}" p50_us) us, p99 $(field "${X[floor_rate]}" p99_us) us," \
      "max $(field "${X[floor_rate]}" max_us) us; greyflux new-mode req/s over floor:" \
      "$(ratio "${R[greyflux,new,rps]:-}" "$(field "${X[floor_closed]}" rps)")"
  fi
  l=${X[rate_line]:-}
  echo "(a) greyflux open loop at $RATE req/s, mode new: achieved $(field "$l" rps) req/s," \
    "p50 $(field "$l" p50_us) us, p99 $(field "$l" p99_us) us, max $(field "$l" max_us) us" \
    "(from send); p99 from schedule $(field "$l" p99_sched_us) us; unsent $(field "$l" unsent)," \
    "errors $(field "$l" errors)"

  median=$(tr ' ' '\n' <<<"${X[fsync_ratios]}" | grep -E '^[0-9.]+$' | sort -n \
    | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print v[int((NR + 1) / 2)] }' \
    || true)
  echo "(b) greyflux closed loop, mode new, req/s normal/with every fsync ${FSYNC_MS} ms slower," \
    "$FSYNC_ROUNDS fresh pairs:${X[fsync_pairs]}; ratios slow/normal:${X[fsync_ratios]};" \
    "median $median; fsync calls in the slowed runs:${X[fsync_calls]:- none counted}"

  if [ -n "${X[size_$SMALL_N]:-}" ]; then
    for n in $(printf '%s\n' "$SMALL_N" "$TRIPLETS" | sort -un); do
      [ -n "${X[size_$n]:-}" ] || continue
      tree=""
      if [ -n "${X[tree_$n]:-}" ]; then
        tree=", B-tree pages $(ratio "$((X[tree_$n] * X[psize]))" "$n") B/triplet"
        tree+=" (mdb_stat entries ${X[entries_$n]})"
      fi
      echo "(c) greyflux LMDB after $n triplets: data.mdb $(ratio "${X[size_$n]}" "$n") B/triplet" \
        "(file ${X[size_$n]} B, allocated $(ratio "${X[du_$n]}" "$n") B/triplet)$tree"
    done
    ok1=$(field "${X[fill1]:-}" ok) ok2=$(field "${X[fill2]:-}" ok)
    stored=$((${ok1:-0} + ${ok2:-0}))
    fill="$(field "${X[fill1]:-}" rps)"
    [ -z "${X[fill2]:-}" ] || fill+=" then $(field "${X[fill2]}" rps)"
    echo "(c) greyflux RSS with $stored triplets stored: VmRSS ${X[rss]:-?} kB" \
      "(anon ${X[rss_anon]:-?} kB, file-backed incl. LMDB map ${X[rss_file]:-?} kB);" \
      "fill rate $fill req/s at log level warn"
  fi
fi
echo
echo "raw result lines: $RESULTS$([ "$KEEP" = 1 ] || echo ' (deleted; use --keep)');" \
  "total $(($(date +%s) - START_TIME)) s"
