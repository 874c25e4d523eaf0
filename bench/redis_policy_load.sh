#!/usr/bin/env bash
# One gf_policy_load run (new triplets, 16 connections, closed loop) against a fresh greyflux on
# backend lmdb or redis (a private redis-server on a free loopback port), then the Redis counters:
# round trips, commands and bytes per decision come from `greyflux stats` and INFO stats.
# Usage: GF=build/release/greyflux LOAD=build/release/bench/gf_policy_load \
#        [DUR=10] [THREADS=2] bench/redis_policy_load.sh lmdb|redis
set -eu
backend=$1
GF=${GF:?set GF=path/to/greyflux}
LOAD=${LOAD:?set LOAD=path/to/gf_policy_load}
d=$(mktemp -d /tmp/gf-redis-bench.XXXX)
rport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
pport=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
redis-server --port $rport --bind 127.0.0.1 --save "" --appendonly no --dir $d --logfile $d/redis.log & rpid=$!
until redis-cli -p $rport ping >/dev/null 2>&1; do sleep 0.05; done
cat > $d/g.toml <<EOT
[daemon]
data_dir = "$d"
[store]
backend = "$backend"
redis_url = "redis://127.0.0.1:$rport/0"
sync = false
[policy]
listen = ["127.0.0.1:$pport"]
threads = ${THREADS:-2}
[http]
listen = []
[admin]
socket = "$d/admin.sock"
[log]
level = "warn"
file = "$d/log"
EOT
$GF serve --config $d/g.toml --set daemon.user=root & gpid=$!
until python3 -c "import socket;socket.create_connection(('127.0.0.1',$pport),0.2)" 2>/dev/null; do sleep 0.05; done
$LOAD --target 127.0.0.1:$pport --connections 16 --threads 1 --duration ${DUR:-10} --mode new
echo "redis: $(redis-cli -p $rport info stats | grep -E 'total_commands_processed|total_net_input_bytes' | tr -d '\r' | tr '\n' ' ')"
$GF stats --config $d/g.toml 2>/dev/null | grep -E '^redis\.(round_trips|commands|bytes_out|failures)|^requests' | tr '\n' ' '; echo
kill $gpid; wait $gpid || true
kill $rpid; wait $rpid || true
rm -rf $d
