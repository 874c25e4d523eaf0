#!/usr/bin/env bash
# history_cost.sh: what logging every decision in the history (issue 15) costs the front doors.
# One greyflux with the policy, [http] and spamd listeners (the history is on only with an
# [http] listener), run alternately with history.size = 0 (off: A) and the default 100000 (on:
# B), each round on a fresh state directory:
#   - bench/gf_policy_load --mode new over 32 connections for D seconds (greylist decisions);
#   - bench/gf_spamd_load CHECK over 8 connections for D seconds on 200 generated messages,
#     after 40 TELLs so the model scores (and the scan's features are what the history keeps).
# Usage: bash bench/history_cost.sh BUILD_DIR [--rounds N] [--duration D]
set -euo pipefail
BUILD=$(cd "$1" && pwd)
shift
ROUNDS=3
DUR=5
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --duration) DUR=$2; shift ;;
    *) echo "history_cost: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
GF=$BUILD/greyflux
WORK=$(mktemp -d /tmp/gf-history-cost.XXXXXX)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/mail"
python3 - "$WORK/mail" <<'PY'
import random, sys
r = random.Random(7)
words = [f"w{i}" for i in range(3000)] + "prize casino pills seminar parser agenda".split()
for i in range(200):
    kind = "spam" if i % 2 else "ham"
    body = " ".join(r.choice(words) for _ in range(r.randint(80, 600)))
    url = f"http://{'promo' if kind == 'spam' else 'docs'}{i % 20}.example/x" if i % 3 == 0 else ""
    with open(f"{sys.argv[1]}/{i:03d}.{kind}", "w") as f:
        f.write(f"From: a{i}@{kind}.example\nTo: u@example.org\nSubject: {kind} {i}\n"
                f"Message-ID: <{i}@{kind}.example>\n\n{body}\n{url}\n")
PY
ls "$WORK"/mail/* > "$WORK/manifest"

run_side() {  # run_side SIZE -> prints "policy_rps spamd_rps"
  local size=$1 dir
  dir=$(mktemp -d "$WORK/run.XXXX")
  local pp hp sp
  pp=$(port); hp=$(port); sp=$(port)
  cat >"$dir/greyflux.toml" <<TOML
[daemon]
data_dir = "$dir"
[store]
path = "$dir/greylist.lmdb"
[policy]
listen = ["127.0.0.1:$pp"]
[greylist]
auto_whitelist_after = 0
domain_auto_whitelist_after = 0
[http]
listen = ["127.0.0.1:$hp"]
[akismet]
store_path = "$dir/akismet.lmdb"
[spamd]
listen = ["127.0.0.1:$sp"]
model = "$dir/mail.model"
[admin]
socket = "$dir/admin.sock"
[history]
size = $size
[log]
level = "info"
file = "$dir/greyflux.log"
TOML
  "$GF" serve --config "$dir/greyflux.toml" >"$dir/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$sp") 2>/dev/null && break
    sleep 0.1
  done
  for f in $(ls "$WORK"/mail/* | head -40); do
    case "$f" in *.spam) c=spam ;; *) c=ham ;; esac
    spamc -d 127.0.0.1 -p "$sp" -L "$c" <"$f" >/dev/null || true
  done
  local prps srps
  prps=$("$BUILD/bench/gf_policy_load" --target "127.0.0.1:$pp" --connections 32 --mode new \
          --duration "$DUR" | grep -o ' rps=[0-9.]*' | cut -d= -f2)
  srps=$("$BUILD/bench/gf_spamd_load" "$sp" "$WORK/manifest" --concurrency 8 --seconds "$DUR" |
         grep -o '= [0-9.]* msg/s' | grep -o '[0-9.]*')
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
  echo "$prps $srps"
}

echo "round side history.size policy_req/s spamd_msg/s"
for r in $(seq "$ROUNDS"); do
  for side in A B; do
    size=$([ "$side" = A ] && echo 0 || echo 100000)
    read -r p s < <(run_side "$size")
    echo "$r $side $size $p $s"
  done
done
