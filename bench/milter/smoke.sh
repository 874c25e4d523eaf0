#!/usr/bin/env bash
# ctest bench.milter_load_smoke: gf_milter_load against a real greyflux milter, so the load
# generator the benchmark figures come from is itself checked. greyflux serves the milter on a
# loopback port and a unix socket (greylisting off, untrained model); gf_milter_load sends GTUBE
# (labelled spam), a plain note and a 200 KB note (ham) over several connections, several
# messages each, in 65535-byte and in 1000-byte body chunks. Expected: no failure, every GTUBE
# rejected at end of message, no ham refused, X-Spam headers added to every message.
#
# usage: smoke.sh GREYFLUX_BINARY GF_MILTER_LOAD_BINARY
# Exit: 0 pass, 1 fail, 77 skip (this greyflux build has no [milter] listen setting).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/lib.sh"
greyflux="$1"
load="$2"
[ -x "$load" ] || die "gf_milter_load not executable: $load"
if ! gf_has_milter "$greyflux"; then
  echo "SKIP: $greyflux has no [milter] listen setting"
  exit 77
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gf-milter-smoke.XXXXXX")" || die "mktemp failed"
trap 'rc=$?; stop_all; [ "$rc" -eq 0 ] && rm -rf "$tmp" || echo "files kept in $tmp"; exit "$rc"' EXIT

port="$(pick_port)" || die "no free port"
policy_port="$(pick_port)" || die "no free port"
cat >"$tmp/greyflux.toml" <<EOF
[daemon]
data_dir = "$tmp"
[store]
backend = "memory"
[policy]
listen = ["127.0.0.1:$policy_port"]
[greylist]
mode = "off"
[milter]
listen = ["127.0.0.1:$port", "unix:$tmp/milter.sock"]
[spamd]
listen = []
model = "mail.model"
[http]
listen = []
[admin]
socket = "admin.sock"
[akismet]
store_path = "akismet.lmdb"
[log]
level = "info"
file = "$tmp/greyflux.log"
EOF
"$greyflux" serve --config "$tmp/greyflux.toml" --set daemon.user=root >"$tmp/serve.out" 2>&1 &
remember $! greyflux
wait_port "$port" "$!" greyflux 30 "$tmp/serve.out"

printf 'From: a@sender.test\nTo: user@example.test\nSubject: test\n\n%s\n' \
  'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X' >"$tmp/gtube.eml"
printf 'From: b@sender.test\nTo: user@example.test\nSubject: lunch\n\nSee you at noon.\n' \
  >"$tmp/note.eml"
{
  printf 'From: c@sender.test\nTo: user@example.test\nSubject: minutes\n\n'
  for i in $(seq 4000); do echo "line $i of the minutes of the meeting, nothing to see here"; done
} >"$tmp/big.eml"
printf '%s\tspam\ttest\n%s\tham\ttest\n%s\tham\ttest\n' \
  "$tmp/gtube.eml" "$tmp/note.eml" "$tmp/big.eml" >"$tmp/manifest.tsv"

failures=0
check() {
  if grep -qE "$1" <<<"$out"; then  # not a pipe: grep -q's early exit is a SIGPIPE under pipefail
    echo "ok   $2"
  else
    echo "FAIL $2 (no match for '$1')"
    failures=$((failures + 1))
  fi
}
for target in "$port" "unix:$tmp/milter.sock"; do
  for chunk in 65535 1000; do
    out="$("$load" "$target" "$tmp/manifest.tsv" --connections 3 --count 30 --per-connection 4 \
      --chunk "$chunk" 2>&1)"
    rc=$?
    echo "$out" | sed 's/^/    /'
    what="$target, chunks of $chunk"
    [ "$rc" -eq 0 ] && echo "ok   $what: exit 0" || { echo "FAIL $what: exit $rc"; failures=$((failures + 1)); }
    check ': 30 ok, 0 failed' "$what: 30 messages answered"
    opened="$(echo "$out" | sed -nE 's/.*per connection, ([0-9]+) opened.*/\1/p')"
    if [ "${opened:-0}" -ge 8 ] && [ "${opened:-0}" -le 12 ]; then
      echo "ok   $what: 4 messages per connection ($opened connections)"
    else
      echo "FAIL $what: $opened connections opened for 30 messages at 4 per connection"
      failures=$((failures + 1))
    fi
    check '^by label: .*spam reject 10($|,)' "$what: every GTUBE rejected"
    check '^by label: ham (accept|continue) 20($|,)' "$what: every ham passed"
    check '^modifications: add_header [0-9]{2,}' "$what: X-Spam headers added"
  done
done
grep -q 'milter' "$tmp/greyflux.log" || echo "note: greyflux.log has no milter line"
[ "$failures" -eq 0 ] || { echo "FAIL: $failures checks failed"; exit 1; }
echo "PASS: gf_milter_load against greyflux's milter"
