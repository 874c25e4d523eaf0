#!/usr/bin/env bash
# Instructions per policy decision in the greyflux server, counted by callgrind (user space):
# unlike req/s, the count does not depend on what else the machine is doing, so it is the figure
# to compare when changing the hot path.
# Usage: bash bench/greylist_instructions.sh BUILD_DIR [REQUESTS] [MODE]
set -euo pipefail
build=$(cd "${1:?usage: greylist_instructions.sh BUILD_DIR [REQUESTS] [MODE]}" && pwd)
requests=${2:-20000}
mode=${3:-new}
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
tmp=$(mktemp -d /tmp/gf-instr.XXXXXX)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/gf.toml" <<CONF
[store]
path = "$tmp/db"
[policy]
listen = ["127.0.0.1:$port"]
threads = 1
[http]
listen = []
[akismet]
store_path = "$tmp/akismet"
[admin]
socket = "$tmp/admin.sock"
[log]
level = "info"
file = "$tmp/log"
CONF
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$build/greyflux" serve \
  --config "$tmp/gf.toml" --set daemon.user=root >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
"$build/bench/gf_policy_load" --target "127.0.0.1:$port" --connections 8 --mode "$mode" \
  --requests "$requests" --salt 7 --timeout 60000 >/dev/null
kill "$pid"
wait "$pid" || true
total=$(callgrind_annotate "$tmp/cg.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "mode=$mode requests=$requests instructions_per_request=$((total / requests))"
