#!/usr/bin/env bash
# The milter end to end (issue 14): Postfix's smtp-source into a private Postfix whose smtpd asks
# a milter, delivering to Postfix's smtp-sink, all on 127.0.0.1. Messages per second through the
# MTA with greyflux's milter, with Rspamd's (proxy worker in milter mode), and with no milter
# (what this Postfix manages on its own on this machine), in one run.
#
#   bash bench/milter/e2e.sh [BUILD_DIR]      (default build/release; needs root)
#
# Env: MESSAGES per case (default 1000), SOURCES parallel smtp-source processes (default 4, each
# sending one corpus ham message of 2-20 KB from the test half, so both filters mostly pass
# them and the whole path - receive, scan, queue, deliver - is timed), SESSIONS per process
# (default 4). greyflux is skipped, with a message, when its build has no `[milter] listen`.
#
# Timing: from the first smtp-source connection until Postfix's log shows every message either
# delivered to smtp-sink (status=sent) or refused by the milter (milter-reject / -discard).
# Postfix: in_flow_delay = 0 (no inbound throttling, so the milter shows), milter_protocol 6,
# milter_default_action = tempfail (a broken milter shows as failures, never as a pass).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$(cd "${1:-$repo/build/release}" && pwd)" || { echo "no build dir" >&2; exit 1; }
source "$here/lib.sh"

messages="${MESSAGES:-1000}"
sources="${SOURCES:-4}"
sessions="${SESSIONS:-4}"
greyflux="${GREYFLUX:-$build/greyflux}"  # GREYFLUX=path measures another build

[ "$(id -u)" -eq 0 ] || die "run as root (a private Postfix master needs root)"
for c in postfix postconf smtp-source smtp-sink rspamd rspamc redis-server python3 ss; do
  command -v "$c" >/dev/null || die "'$c' missing: bash scripts/deps.sh bench"
done

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gf-milter-e2e.XXXXXX")" || die "mktemp failed"
chmod 0755 "$tmp"
conf_dir="$tmp/postfix/etc"
queue_dir="$tmp/postfix/queue"
maillog="$tmp/maillog"
sink_pid=""
source "$repo/tests/integration/lib/private_postfix.sh"

trap 'pf_stop; stop_all; [ -n "$sink_pid" ] && kill -TERM "$sink_pid" 2>/dev/null; [ "${GF_KEEP_TMP:-0}" = 1 ] && echo "files kept in $tmp" || rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# ---- corpus: the training lists and the messages smtp-source sends ---------------------------
corpus="$(dirname "$build")/corpus"
python3 "$repo/bench/sa_corpus.py" "$corpus" >/dev/null || die "corpus install failed"
manifest="$corpus/manifest.tsv"
awk -F'\t' '$3 == "train" && $2 == "spam" {print $1}' "$manifest" >"$tmp/train.spam"
awk -F'\t' '$3 == "train" && $2 == "ham" {print $1}' "$manifest" >"$tmp/train.ham"
mapfile -t sends < <(awk -F'\t' '$3 == "test" && $2 == "ham" {print $1}' "$manifest" |
  xargs stat -c '%s %n' | awk '$1 >= 2048 && $1 <= 20480 {print $2}' | sort |
  awk 'NR % 97 == 1' | head -n "$sources")
[ "${#sends[@]}" -eq "$sources" ] || die "could not pick $sources test-half ham messages"
for i in "${!sends[@]}"; do
  # smtp-source sends the file as is; drop the mbox From line the corpus files start with.
  sed '1{/^From /d}' "${sends[$i]}" >"$tmp/msg.$i"
done
log "smtp-source messages: $(for f in "${sends[@]}"; do printf '%s (%s B) ' "${f##*/}" "$(stat -c %s "$f")"; done)"

# ---- sink and Postfix -------------------------------------------------------------------------
sink_port="$(pick_port)" || die "no free port"
smtp_port="$(pick_port)" || die "no free port"
smtp-sink -u nobody 127.0.0.1:"$sink_port" 256 >"$tmp/sink.log" 2>&1 &
sink_pid=$!
wait_port "$sink_port" "$sink_pid" smtp-sink 15 "$tmp/sink.log"
log "smtp-sink (pid $sink_pid) on 127.0.0.1:$sink_port"

# write_postfix MILTER: main.cf and master.cf of the private instance ("" = no milter).
write_postfix() {
  pf_write_config "$smtp_port" bench "smtp      unix  -       -       n       -       -       smtp" <<EOF
in_flow_delay = 0s
# Only example.test is relayed, and only to the sink on loopback; everything else is an error.
relay_domains = example.test
transport_maps = inline:{ example.test=smtp:[127.0.0.1]:$sink_port }
default_transport = error:no outbound mail in this benchmark
relay_transport = error:no outbound mail in this benchmark
local_transport = error:no local delivery in this benchmark
smtp_bind_address = 127.0.0.1
smtp_dns_support_level = disabled
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_milters = $1
milter_protocol = 6
milter_default_action = tempfail
milter_mail_macros = i {mail_addr} {client_addr} {client_name} {auth_authen}
EOF
}

start_postfix() {
  write_postfix "$1"
  : >"$maillog"
  pf_start 60 || die "postfix start failed"
  local pid
  pid="$(pf_master_pid)" || die "no live postfix master"
  wait_port "$smtp_port" "$pid" "postfix master" 30 "$maillog"
}

# count PATTERN: lines of the Postfix log matching PATTERN.
count() { grep -cE "$1" "$maillog"; }

# send N: smtp-source processes, N messages in all, split over the message files.
send() {
  local per=$(($1 / sources)) i pids=()
  for i in $(seq 0 $((sources - 1))); do
    smtp-source -A -s "$sessions" -m "$per" -f "bench$i@sender$i.test" -t "user$i@example.test" \
      -F "$tmp/msg.$i" -M client.bench.test "127.0.0.1:$smtp_port" >"$tmp/source.$i" 2>&1 &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
  echo $((per * sources))
}

# run_case NAME MILTER: warm-up, then MESSAGES timed; sets e2e_<NAME> (msg/s) and prints a line.
run_case() {
  local name="$1"
  start_postfix "$2"
  send 40 >/dev/null
  local deadline=$((SECONDS + 60))
  until [ $(($(count 'status=sent') + $(count 'milter-(reject|discard)'))) -ge 40 ]; do
    [ "$SECONDS" -lt "$deadline" ] || break
    sleep 0.2
  done
  : >"$maillog"
  local t0 t1 t_sent sent refused n
  log "$name: load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  t0="$(date +%s.%N)"
  n="$(send "$messages")"
  t_sent="$(date +%s.%N)"
  deadline=$((SECONDS + 120))
  while :; do
    sent="$(count 'status=sent')"
    refused="$(count 'milter-(reject|discard)')"
    [ $((sent + refused)) -ge "$n" ] && break
    [ "$SECONDS" -lt "$deadline" ] || { log "$name: WARNING: only $sent sent + $refused refused of $n after 120 s"; break; }
    sleep 0.05
  done
  t1="$(date +%s.%N)"
  local tempfail
  tempfail="$(grep -cE 'milter-reject: .*: 4\.[0-9]' "$maillog")"
  printf -v "e2e_$name" '%s' "$(awk -v a="$t0" -v b="$t1" -v n="$((sent + refused))" 'BEGIN{printf "%.0f", n / (b - a)}')"
  local v="e2e_$name"
  log "$name: $n messages: $sent delivered to smtp-sink, $refused refused by the milter" \
    "($tempfail of them 4xx); smtp-source done in $(awk -v a="$t0" -v b="$t_sent" 'BEGIN{printf "%.2f", b - a}') s," \
    "all settled in $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b - a}') s = ${!v} msg/s through the MTA"
  local errs
  errs="$(grep -cE 'warning: milter|fatal|panic' "$maillog")"
  [ "$errs" -eq 0 ] || { log "$name: $errs milter warnings in the Postfix log:"; grep -E 'warning: milter|fatal|panic' "$maillog" | head -n 3; }
  pf_stop
}

# ---- the three cases --------------------------------------------------------------------------
echo "\$ smtp-source -A -s $sessions -m $((messages / sources)) -f benchI@senderI.test -t userI@example.test -F MSG_I -M client.bench.test 127.0.0.1:SMTPD  (x $sources)"
run_case none ""

start_redis "$tmp/redis"
start_dns_stub "$tmp"
start_rspamd "$tmp/rspamd" "$(dirname "$build")/rspamd-hs"
wait_rspamd_hyperscan "$tmp/rspamd"
rspamd_learn "$tmp" "${RSPAMD_LEARN:-200}"
run_case rspamd "inet:127.0.0.1:$rspamd_milter_port"
offl="$(offloopback 'rspamd|redis-server|python3|smtp|smtpd|master')"
log "rspamd + Postfix: sockets to peers outside loopback: ${offl:-none}"
stop_all

have_gf_milter=0
if gf_has_milter "$greyflux"; then
  have_gf_milter=1
  start_greyflux_milter "$tmp/gf" "$greyflux" "$tmp/train.spam" "$tmp/train.ham"
  run_case greyflux "inet:127.0.0.1:$gf_milter_port"
  offl="$(offloopback 'greyflux|smtp|smtpd|master')"
  log "greyflux + Postfix: sockets to peers outside loopback: ${offl:-none}"
  stop_all
else
  log "greyflux at $greyflux has no [milter] listen setting (the milter server has not landed" \
    "in this build): skipped"
fi

echo
echo "== end to end: smtp-source -> Postfix (smtpd_milters) -> smtp-sink, $messages messages =="
printf '%-10s %12s\n' milter "msg/s"
printf '%-10s %12s\n' none "$e2e_none" rspamd "$e2e_rspamd"
[ "$have_gf_milter" = 1 ] && printf '%-10s %12s\n' greyflux "$e2e_greyflux"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (shared 2-core machine)"
