#!/usr/bin/env bash
# Comment API speed in one run: wrk posting realistic comment-checks over keep-alive against
# greyflux, then against nginx answering a fixed "false" (the anchor) on its own temporary config,
# then submit-spam training against greyflux. Everything on 127.0.0.1, free ports, temp dirs.
# Prints checks/s, p50/p99 and greyflux/nginx ratios.
# Usage: bench/akismet/run.sh [GREYFLUX_BINARY] [SECONDS] [CONNECTIONS] [WRK_THREADS]
# Needs: wrk, nginx (scripts/deps.sh bench). GF_PERF=FILE records the server with perf during
# the comment-check phase (GF_PERF_CG='--call-graph dwarf' for user-space call graphs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../../build/release/greyflux}"
secs="${2:-10}"
conns="${3:-64}"
wthreads="${4:-2}"
for tool in wrk nginx python3; do
  command -v "$tool" >/dev/null || { echo "run.sh: $tool missing (scripts/deps.sh bench)" >&2; exit 1; }
done
tmp="$(mktemp -d /tmp/gf-akbench.XXXXXX)"
gf_pid=""; ng_pid=""
cleanup() {
  [ -n "$gf_pid" ] && kill "$gf_pid" 2>/dev/null && wait "$gf_pid" 2>/dev/null || true
  [ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null && wait "$ng_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "run.sh: nothing listens on port $1" >&2; return 1
}

gf_http=$(free_port); gf_policy=$(free_port); ng_port=$(free_port)
cat > "$tmp/greyflux.toml" <<CONF
[store]
path = "$tmp/greylist.lmdb"
[policy]
listen = ["127.0.0.1:$gf_policy"]
[http]
listen = ["127.0.0.1:$gf_http"]
[akismet]
store_path = "$tmp/akismet.lmdb"
[admin]
socket = "$tmp/admin.sock"
[log]
file = "$tmp/greyflux.log"
CONF
key=$("$bin" keys add --blog https://blog.example --config "$tmp/greyflux.toml")
"$bin" serve --config "$tmp/greyflux.toml" --set daemon.user=root & gf_pid=$!
wait_port "$gf_http"

mkdir -p "$tmp/nginx"
cat > "$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $tmp/nginx/body;
  proxy_temp_path $tmp/nginx/proxy;
  fastcgi_temp_path $tmp/nginx/fastcgi;
  uwsgi_temp_path $tmp/nginx/uwsgi;
  scgi_temp_path $tmp/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$ng_port;
    location / { default_type text/plain; return 200 "false"; }
  }
}
CONF
nginx -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" & ng_pid=$!
wait_port "$ng_port"

run_wrk() {  # URL PATH -> RESULT line
  GF_KEY="$key" GF_PATH="$2" wrk -t"$wthreads" -c"$conns" -d"${secs}s" --timeout 5s \
    -s "$here/comment_check.lua" "$1" | grep '^RESULT'
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

echo "# $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$wthreads -c$conns -d${secs}s, keep-alive; greyflux $("$bin" --version | awk '{print $2}') defaults (2 io threads, LMDB sync, every check stored)"
# Warm-up (page cache, JIT-free but allocators and LMDB map).
GF_KEY="$key" wrk -t1 -c8 -d2s -s "$here/comment_check.lua" "http://127.0.0.1:$gf_http/1.1/comment-check" >/dev/null
# Training first, so that the comment-checks below run with the classifier (trained on both
# classes) and not on the cheaper cold-start heuristics alone.
s=$(run_wrk "http://127.0.0.1:$gf_http/1.1/submit-spam" /1.1/submit-spam)
GF_KEY="$key" GF_PATH=/1.1/submit-ham wrk -t1 -c4 -d1s -s "$here/comment_check.lua" \
  "http://127.0.0.1:$gf_http/1.1/submit-ham" >/dev/null
if [ -n "${GF_PERF:-}" ]; then
  perf record -F 999 ${GF_PERF_CG:--g} -p "$gf_pid" -o "$GF_PERF" -- sleep "$secs" >/dev/null 2>&1 &
  perf_pid=$!
fi
g=$(run_wrk "http://127.0.0.1:$gf_http/1.1/comment-check" /1.1/comment-check)
[ -n "${GF_PERF:-}" ] && wait "$perf_pid"
n=$(run_wrk "http://127.0.0.1:$ng_port/1.1/comment-check" /1.1/comment-check)
# greyflux's own HTTP floor: the same requests to a path it answers 404 without any work, to
# tell the HTTP layer's share of the gap to nginx from the check's.
f=$(run_wrk "http://127.0.0.1:$gf_http/1.1/nothing" /1.1/nothing)
printf '%-34s %12s %10s %10s %10s %8s %8s\n' target "req/s" "p50 ms" "p99 ms" "max ms" errors non2xx
printf '%-34s %12s %10s %10s %10s %8s %8s\n' "greyflux comment-check" "$(field "$g" rps)" "$(field "$g" p50_ms)" "$(field "$g" p99_ms)" "$(field "$g" max_ms)" "$(field "$g" errors)" "$(field "$g" non2xx)"
printf '%-34s %12s %10s %10s %10s %8s %8s\n' "nginx fixed \"false\" (anchor)" "$(field "$n" rps)" "$(field "$n" p50_ms)" "$(field "$n" p99_ms)" "$(field "$n" max_ms)" "$(field "$n" errors)" "$(field "$n" non2xx)"
printf '%-34s %12s %10s %10s %10s %8s %8s\n' "greyflux 404 floor (no work)" "$(field "$f" rps)" "$(field "$f" p50_ms)" "$(field "$f" p99_ms)" "$(field "$f" max_ms)" "$(field "$f" errors)" "-"
printf '%-34s %12s %10s %10s %10s %8s %8s\n' "greyflux submit-spam (training)" "$(field "$s" rps)" "$(field "$s" p50_ms)" "$(field "$s" p99_ms)" "$(field "$s" max_ms)" "$(field "$s" errors)" "$(field "$s" non2xx)"
python3 - "$(field "$g" rps)" "$(field "$n" rps)" "$(field "$f" rps)" <<'PY'
import sys
g, n, f = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"ratio greyflux/nginx checks/s: {g / n:.2f} (greyflux 404 floor / nginx: {f / n:.2f})")
PY
"$bin" stats --config "$tmp/greyflux.toml" 2>/dev/null |
  grep -E '^akismet\.(checks|spam|ham|trained|store_errors|checks_stored|store_writer_promotions)\b' || true
kill -TERM "$gf_pid"; wait "$gf_pid" || true; gf_pid=""
