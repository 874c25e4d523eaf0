#!/usr/bin/env bash
# gf_policy_load (new triplets, 16 connections, closed loop) against a fresh greyflux on backend
# lmdb, redis (a private redis-server on a free loopback port) and redis-cluster (3 masters and
# 3 replicas made with `redis-cli --cluster create` on free loopback ports), one after the other
# in one run, then one summary line per backend: decisions/s, p99, Redis round trips per
# decision (greyflux's redis.round_trips / requests), commands and bytes per decision, cluster
# redirects; and the CPU time per decision (from /proc/PID/stat and the shell's `times`, so
# independent of how busy the machine is) of greyflux, of the redis-server processes (a
# cluster's six) and of the load generator. Every server the script starts is stopped by PID.
# comments-lmdb / comments-redis: wrk (bench/akismet/comment_check.lua, WRK_CONNS keep-alive
# connections) posting comment-checks to greyflux's comment API on that store, after a short
# submit-spam/submit-ham training; the summary gives checks/s, p99 and, on Redis, round trips
# (waited for) and bytes per check, and the same CPU times per check (wrk as the generator).
# Usage: GF=build/release/greyflux LOAD=build/release/bench/gf_policy_load \
#        [DUR=10] [THREADS=2] [CONNS=16] [RATE=0] [WRK_CONNS=64] \
#        bench/redis_policy_load.sh [lmdb|redis|redis-cluster|comments-lmdb|comments-redis ...]
# RATE=R runs the policy load open loop at R req/s in total (p99 then includes queueing from
# the scheduled send time: p99_sched); a backend written NAME@R (redis@10000) runs open loop at
# R req/s whatever RATE says, so closed- and open-loop rows come out of one run.
set -eu
GF=${GF:?set GF=path/to/greyflux}
LOAD=${LOAD:?set LOAD=path/to/gf_policy_load}
backends=("$@")
[ ${#backends[@]} -eq 0 ] && backends=(lmdb redis redis-cluster)
d=$(mktemp -d /tmp/gf-redis-bench.XXXX)
pids=()
declare -A redis_pid  # port -> PID
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$d"
}
trap cleanup EXIT

free_port() {  # a port p with p + 10000 (the cluster bus) free too
  python3 - <<'EOF'
import random, socket
def ok(p):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p)); return True
        except OSError:
            return False
while True:
    p = random.randrange(20000, 22768)  # bus p+10000 below 32768
    if ok(p) and ok(p + 10000):
        print(p); break
EOF
}

start_redis() {  # port [cluster]
  local dir=$d/redis-$1
  mkdir -p "$dir"
  local extra=()
  [ "${2:-}" = cluster ] && extra=(--cluster-enabled yes --cluster-config-file nodes.conf
                                   --cluster-node-timeout 2000)
  redis-server --port "$1" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" \
    --logfile "$dir/redis.log" "${extra[@]}" & pids+=($!)
  redis_pid[$1]=$!
  until redis-cli -p "$1" ping >/dev/null 2>&1; do sleep 0.05; done
}

start_cluster() {  # sets cluster_ports (all nodes) and cluster_masters
  cluster_ports=()
  for _ in 1 2 3 4 5 6; do
    local p; p=$(free_port)
    start_redis "$p" cluster
    cluster_ports+=("$p")
  done
  redis-cli --cluster create $(printf '127.0.0.1:%s ' "${cluster_ports[@]}") \
    --cluster-replicas 1 --cluster-yes >"$d/cluster-create.log"
  cluster_masters=()
  for p in "${cluster_ports[@]}"; do
    until redis-cli -p "$p" cluster info | grep -q 'cluster_state:ok'; do sleep 0.05; done
    if [ "$(redis-cli -p "$p" role | head -1)" = master ]; then cluster_masters+=("$p"); fi
  done
}

# Redis commands and input bytes processed, summed over the given ports (a cluster's masters
# only: a replica's count is the replication stream, not greyflux's traffic).
redis_totals() {
  local cmds=0 bytes=0
  for p in "$@"; do
    local s; s=$(redis-cli -p "$p" info stats | tr -d '\r')
    cmds=$((cmds + $(echo "$s" | sed -n 's/^total_commands_processed://p')))
    bytes=$((bytes + $(echo "$s" | sed -n 's/^total_net_input_bytes://p')))
  done
  echo "$cmds $bytes"
}

# Waits for greyflux (PID $1) to listen on port $2; stops the run when it exited instead (a
# start-up error, e.g. Redis not answering within redis_timeout on a busy machine: log $3).
wait_listening() {
  until python3 -c "import socket;socket.create_connection(('127.0.0.1',$2),0.2)" 2>/dev/null; do
    if ! kill -0 "$1" 2>/dev/null; then
      echo "greyflux exited before listening; its log:" >&2
      tail -5 "$3" >&2
      exit 1
    fi
    sleep 0.05
  done
}

# CPU time (user + system, clock ticks) of the given PIDs so far, all threads.
cpu_ticks() {
  local t=0
  for p in "$@"; do
    t=$((t + $(awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$t"
}

# Runs the command with stdout to $d/out and its CPU time (user + system, s) to $d/cpu.
run_timed() {
  ( "$@" >"$d/out"
    times >"$d/times" )  # not in a pipeline: a forked subshell has no children's times
  tail -1 "$d/times" | python3 -c "
import re, sys
v = [float(m) * 60 + float(s) for m, s in re.findall(r'(\d+)m([\d.]+)s', sys.stdin.read())]
print(sum(v))" >"$d/cpu"
}

run_one() {  # backend[@rate]
  local backend=${1%@*} rate=${RATE:-0} store=lmdb url="redis://127.0.0.1:1/0" cluster=false ports=()
  [ "$1" != "$backend" ] && rate=${1#*@}
  case $backend in
    redis) store=redis; local p; p=$(free_port); start_redis "$p"; ports=("$p")
           url="redis://127.0.0.1:$p/0" ;;
    redis-cluster) store=redis; cluster=true; start_cluster; ports=("${cluster_masters[@]}")
                   url="redis://127.0.0.1:${cluster_ports[0]}/0" ;;
  esac
  local rpids=()
  case $backend in
    redis) rpids=("${redis_pid[${ports[0]}]}") ;;
    redis-cluster) for q in "${cluster_ports[@]}"; do rpids+=("${redis_pid[$q]}"); done ;;
  esac
  local pport; pport=$(free_port)
  local gdir=$d/gf-$backend
  mkdir -p "$gdir"
  cat > "$gdir/g.toml" <<EOT
[daemon]
data_dir = "$gdir"
[store]
backend = "$store"
redis_url = "$url"
cluster = $cluster
sync = false
[policy]
listen = ["127.0.0.1:$pport"]
threads = ${THREADS:-2}
[http]
listen = []
[admin]
socket = "$gdir/admin.sock"
[log]
level = "warn"
file = "$gdir/log"
EOT
  "$GF" serve --config "$gdir/g.toml" --set daemon.user=root & local gpid=$!
  pids+=($gpid)
  wait_listening "$gpid" "$pport" "$gdir/log"
  local before=(0 0)
  [ ${#ports[@]} -gt 0 ] && read -r -a before <<<"$(redis_totals "${ports[@]}")"
  local gcpu0 rcpu0; gcpu0=$(cpu_ticks "$gpid"); rcpu0=$(cpu_ticks "${rpids[@]}")
  run_timed "$LOAD" --target 127.0.0.1:$pport --connections "${CONNS:-16}" --threads 1 \
    --duration "${DUR:-10}" --mode new --rate "$rate"
  local out; out=$(cat "$d/out")
  local cpu="$(($(cpu_ticks "$gpid") - gcpu0)) $(($(cpu_ticks "${rpids[@]}") - rcpu0)) $(cat "$d/cpu")"
  echo "$1: $out"
  local after=(0 0)
  [ ${#ports[@]} -gt 0 ] && read -r -a after <<<"$(redis_totals "${ports[@]}")"
  local stats; stats=$("$GF" stats --config "$gdir/g.toml" 2>/dev/null || true)
  python3 - "$1" "$out" "$stats" "${before[*]}" "${after[*]}" "$cpu" <<'EOF'
import os, sys
label, out, stats, before, after, cpu = sys.argv[1:7]
backend = label.split("@")[0]
kv = dict(w.split("=", 1) for w in out.split() if "=" in w)
st = dict(l.split("\t", 1) for l in stats.splitlines() if "\t" in l)
req = int(kv.get("requests", 0)) or 1
b, a = [int(x) for x in before.split()], [int(x) for x in after.split()]
line = (f"SUMMARY {label}: decisions/s {float(kv['rps']):,.0f}  p99 "
        f"{int(kv['p99_us']) / 1000:.2f} ms  errors {kv['errors']}")
if "p99_sched_us" in kv:
    line += f"  p99 from schedule {int(kv['p99_sched_us']) / 1000:.2f} ms"
line += "  load " + open("/proc/loadavg").read().split()[0]
if backend != "lmdb":
    rt = int(st.get("redis.round_trips", 0))
    line += (f"  round trips/decision {rt / req:.2f} ({rt}/{req})  redis commands/decision "
             f"{(a[0] - b[0]) / req:.1f}  bytes to Redis/decision {(a[1] - b[1]) / req:.0f}"
             f"  store failures {st.get('decisions.store-failure', '0')}"
             f"  on io loops {st.get('redis.loop_calls', '0')}")
    if backend == "redis-cluster":
        line += (f"  redirects {st.get('redis.cluster_redirects', '0')}  map refreshes "
                 f"{st.get('redis.cluster_map_refreshes', '0')}")
g, r, l = cpu.split()
tick = 1e6 / os.sysconf("SC_CLK_TCK")
line += (f"  cpu us/decision greyflux {int(g) * tick / req:.1f} redis {int(r) * tick / req:.1f}"
         f" loadgen {float(l) * 1e6 / req:.1f}")
print(line)
EOF
  kill "$gpid"; wait "$gpid" || true
}

run_comments() {  # comments-lmdb | comments-redis
  local backend=$1 store=lmdb url="redis://127.0.0.1:1/0" ports=()
  if [ "$backend" = comments-redis ]; then
    store=redis; local p; p=$(free_port); start_redis "$p"; ports=("$p")
    url="redis://127.0.0.1:$p/0"
  fi
  local hport pport; hport=$(free_port); pport=$(free_port)
  local gdir=$d/gf-$backend
  mkdir -p "$gdir"
  cat > "$gdir/g.toml" <<EOT
[daemon]
data_dir = "$gdir"
[store]
backend = "$store"
redis_url = "$url"
sync = false
[policy]
listen = ["127.0.0.1:$pport"]
threads = ${THREADS:-2}
[http]
listen = ["127.0.0.1:$hport"]
[admin]
socket = "$gdir/admin.sock"
[log]
level = "warn"
file = "$gdir/log"
EOT
  local key; key=$("$GF" keys add --blog https://blog.example --config "$gdir/g.toml")
  "$GF" serve --config "$gdir/g.toml" --set daemon.user=root & local gpid=$!
  pids+=($gpid)
  wait_listening "$gpid" "$hport" "$gdir/log"
  local lua; lua=$(dirname "$0")/akismet/comment_check.lua
  GF_KEY="$key" GF_PATH=/1.1/submit-spam wrk -t1 -c4 -d1s -s "$lua" \
    "http://127.0.0.1:$hport/1.1/submit-spam" >/dev/null
  GF_KEY="$key" GF_PATH=/1.1/submit-ham wrk -t1 -c4 -d1s -s "$lua" \
    "http://127.0.0.1:$hport/1.1/submit-ham" >/dev/null
  local before=(0 0) rt0=0
  if [ ${#ports[@]} -gt 0 ]; then
    read -r -a before <<<"$(redis_totals "${ports[@]}")"
    rt0=$("$GF" stats --config "$gdir/g.toml" 2>/dev/null | sed -n 's/^redis.round_trips\t//p')
  fi
  local rpids=()
  [ ${#ports[@]} -gt 0 ] && rpids=("${redis_pid[${ports[0]}]}")
  local gcpu0 rcpu0; gcpu0=$(cpu_ticks "$gpid"); rcpu0=$(cpu_ticks "${rpids[@]}")
  GF_KEY="$key" run_timed wrk -t2 -c"${WRK_CONNS:-64}" -d"${DUR:-10}s" --timeout 5s \
    -s "$lua" "http://127.0.0.1:$hport/1.1/comment-check"
  local out; out=$(grep '^RESULT' "$d/out")
  local cpu="$(($(cpu_ticks "$gpid") - gcpu0)) $(($(cpu_ticks "${rpids[@]}") - rcpu0)) $(cat "$d/cpu")"
  echo "$backend: $out"
  local after=(0 0)
  [ ${#ports[@]} -gt 0 ] && read -r -a after <<<"$(redis_totals "${ports[@]}")"
  local stats; stats=$("$GF" stats --config "$gdir/g.toml" 2>/dev/null || true)
  python3 - "$backend" "$out" "$stats" "${before[*]}" "${after[*]}" "${rt0:-0}" "$cpu" <<'EOF'
import os, sys
backend, out, stats, before, after, rt0, cpu = sys.argv[1:8]
kv = dict(w.split("=", 1) for w in out.split() if "=" in w)
st = dict(l.split("\t", 1) for l in stats.splitlines() if "\t" in l)
req = int(kv.get("requests", 0)) or 1
b, a = [int(x) for x in before.split()], [int(x) for x in after.split()]
line = (f"SUMMARY {backend}: checks/s {float(kv['rps']):,.0f}  p99 {kv['p99_ms']} ms  "
        f"errors {kv['errors']} non2xx {kv['non2xx']}  "
        f"store errors {st.get('akismet.store_errors', '?')}")
if backend == "comments-redis":
    rt = int(st.get("redis.round_trips", 0)) - int(rt0 or 0)
    line += (f"  round trips/check {rt / req:.2f} ({rt}/{req})  redis commands/check "
             f"{(a[0] - b[0]) / req:.1f}  bytes to Redis/check {(a[1] - b[1]) / req:.0f}"
             f"  write failures {st.get('redis.write_failures', '0')}"
             f"  on io loops {st.get('redis.loop_calls', '0')}")
g, r, l = cpu.split()
tick = 1e6 / os.sysconf("SC_CLK_TCK")
line += (f"  cpu us/check greyflux {int(g) * tick / req:.1f} redis {int(r) * tick / req:.1f}"
         f" wrk {float(l) * 1e6 / req:.1f}")
line += "  load " + open("/proc/loadavg").read().split()[0]
print(line)
EOF
  kill "$gpid"; wait "$gpid" || true
}

for b in "${backends[@]}"; do
  case $b in
    comments-*) run_comments "$b" ;;
    *) run_one "$b" ;;
  esac
done

