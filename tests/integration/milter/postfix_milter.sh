#!/usr/bin/env bash
# Integration test: a private Debian Postfix instance with greyflux as its milter
# (smtpd_milters = inet:127.0.0.1:PORT), driven by swaks. Loopback only, free high ports.
#
# Flow: start greyflux ([milter] listen, greylist.mode = "off", LMDB store) -> start Postfix
# (its own config, queue and data dirs in a temp dir, delivery to Maildir by virtual(8)) ->
#   1. GTUBE                 -> 550 5.7.1 at the end of DATA, nothing delivered
#   2. a plain note          -> delivered, carrying X-Spam-Status/-Score/-Symbols
#   SIGHUP with greylist.mode = "always":
#   3. a new triplet         -> 451 4.7.1 at RCPT; the retry after the (3 s) delay is accepted
#                               and delivered with X-Greylist
#   SIGHUP with greylist.mode = "suspicious", milter.grey_min = 0.4 (an HTML-only mail scores
#   0.5 with the untrained model, a plain note 0):
#   4. a clean first message -> delivered at once (no deferral for a new triplet)
#   5. a grey-band message   -> 451 4.7.1 at the end of DATA; accepted after the delay
#   SIGHUP with spamd.flux_rpz naming 127.0.0.1 as a flux agent (an rpz-ip rule, as
#   `greyflux flux scan` writes them; greylist.flux_agents = "defer", the default):
#   6. the client            -> 451 4.7.1 "Client host serves a fast-flux network" at connect
# -> stop Postfix and greyflux by PID; greyflux must exit 0 on SIGTERM.
#
# Usage: postfix_milter.sh /path/to/greyflux      Env: GF_KEEP_TMP=1 keeps the temp dir.
# Needs root, postfix, swaks, ss (scripts/deps.sh test). Exit 0 pass, 1 fail.
set -uo pipefail

readonly delay_s=3
readonly start_s="$SECONDS"
readonly budget_end=$((start_s + 75))

log() { printf '[milter +%3ds] %s\n' "$((SECONDS - start_s))" "$*"; }
fail() {
  printf '[milter +%3ds] FAIL: %s\n' "$((SECONDS - start_s))" "$*" >&2
  exit 1
}
check_budget() { [ "$SECONDS" -lt "$budget_end" ] || fail "test budget exhausted"; }

[ $# -eq 1 ] || fail "usage: $0 /path/to/greyflux"
greyflux_bin="$1"
[ -x "$greyflux_bin" ] || fail "greyflux binary not executable: $greyflux_bin"
[ "$(id -u)" -eq 0 ] || fail "must run as root: a private Postfix master needs root to start"
for cmd in postfix postconf swaks ss timeout; do
  command -v "$cmd" >/dev/null || fail "'$cmd' not found: scripts/deps.sh test installs it"
done
mail_uid="$(id -u nobody)" || fail "user 'nobody' missing"
mail_gid="$(id -g nobody)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/gf-milter.XXXXXX")" || fail "mktemp failed"
chmod 0755 "$tmp"
conf_dir="$tmp/postfix/etc"
queue_dir="$tmp/postfix/queue"
mail_dir="$tmp/mail"
maillog="$tmp/maillog"
gf_log="$tmp/greyflux.log"
server_pid=""

source "$(dirname "${BASH_SOURCE[0]}")/../lib/private_postfix.sh"

cleanup() {
  local rc=$?
  pf_stop
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null
    pf_wait_gone "$server_pid" 5 || kill -KILL "$server_pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    for f in "$gf_log" "$tmp/greyflux.err" "$maillog"; do
      [ -s "$f" ] || continue
      echo "---- last lines of $f ----"
      tail -n 30 "$f"
    done
    echo "FAIL: postfix_milter; files kept in $tmp"
  elif [ "${GF_KEEP_TMP:-0}" = 1 ]; then
    echo "files kept in $tmp"
  else
    rm -rf "$tmp"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

picked=()
pick_port() {
  local port _
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    [[ " ${picked[*]-} " == *" $port "* ]] && continue
    if [ -z "$(ss -Hatn "( sport = :$port )")" ]; then
      picked+=("$port")
      echo "$port"
      return 0
    fi
  done
  return 1
}
wait_port() {
  local deadline=$((SECONDS + $3))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || fail "process $2 exited before listening on 127.0.0.1:$1"
    [ "$SECONDS" -lt "$deadline" ] || fail "nothing accepts on 127.0.0.1:$1 after $3 s"
    sleep 0.1
  done
}

milter_port="$(pick_port)" || fail "no free port"
policy_port="$(pick_port)" || fail "no free port"
smtp_port="$(pick_port)" || fail "no free port"
log "temp dir $tmp; milter 127.0.0.1:$milter_port, smtpd 127.0.0.1:$smtp_port"

# ---- greyflux ---------------------------------------------------------------------------------
write_config() { # MODE [FLUX_RPZ]
  cat >"$tmp/greyflux.toml.new" <<EOF
[daemon]
data_dir = "$tmp"
[store]
backend = "lmdb"
path = "$tmp/greylist.lmdb"
[policy]
listen = ["127.0.0.1:$policy_port"]
[greylist]
delay = "${delay_s}s"
mode = "$1"
auto_whitelist_after = 0
domain_auto_whitelist_after = 0
[milter]
listen = ["127.0.0.1:$milter_port"]
grey_min = "0.4"
grey_max = "15.0"
[spamd]
model = "$tmp/mail.model"
flux_rpz = "${2:-}"
[admin]
socket = "$tmp/admin.sock"
[http]
listen = []
[akismet]
store_path = "$tmp/akismet.lmdb"
[log]
level = "info"
file = "$gf_log"
EOF
  mv "$tmp/greyflux.toml.new" "$tmp/greyflux.toml"
}
write_config off
"$greyflux_bin" serve --config "$tmp/greyflux.toml" --set daemon.user=root >"$tmp/greyflux.err" 2>&1 &
server_pid=$!
wait_port "$milter_port" "$server_pid" 15
log "greyflux (pid $server_pid) serves the milter"

# reload MODE: rewrite the config, SIGHUP, wait for the reload line.
reloads=0
reload() {
  write_config "$@"
  reloads=$((reloads + 1))
  kill -HUP "$server_pid"
  local deadline=$((SECONDS + 10))
  until [ "$(grep -c ' reloaded ' "$gf_log" 2>/dev/null)" -ge "$reloads" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no 'reloaded' line after SIGHUP"
    sleep 0.1
  done
  log "greylist.mode = \"$1\" (SIGHUP)"
}

# ---- Postfix ----------------------------------------------------------------------------------
mkdir -p "$mail_dir"
chown "$mail_uid:$mail_gid" "$mail_dir"
pf_write_config "$smtp_port" milter "virtual   unix  -       n       n       -       -       virtual" <<EOF
myorigin = \$myhostname
relay_domains =
default_transport = error:no outbound mail in this test
relay_transport = error:no outbound mail in this test
local_transport = error:no local delivery in this test
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
# The lines docs/milter.md recommends.
smtpd_milters = inet:127.0.0.1:$milter_port
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
virtual_mailbox_domains = example.test
virtual_mailbox_base = $mail_dir
virtual_mailbox_maps = static:user/
virtual_uid_maps = static:$mail_uid
virtual_gid_maps = static:$mail_gid
virtual_transport = virtual
EOF
pf_start 30 || fail "postfix start failed"
postfix_pid="$(pf_master_pid)" || fail "no live postfix master"
wait_port "$smtp_port" "$postfix_pid" 15
log "postfix master (pid $postfix_pid) accepts connections"

# ---- swaks ------------------------------------------------------------------------------------
n=0
# send FROM TOKEN [swaks args...]: one transaction; sets out (the transcript file) and rc.
send() {
  local from="$1" token="$2"
  shift 2
  n=$((n + 1))
  out="$tmp/swaks.$n.txt"
  check_budget
  timeout 20 swaks --server 127.0.0.1 --port "$smtp_port" --helo client.sender.test \
    --from "$from" --to user@example.test --timeout 15 \
    --header "Subject: greyflux milter test $token" "$@" >"$out" 2>&1
  rc=$?
}
# replied CODE_RE WHAT: the transcript holds a server line matching CODE_RE.
replied() {
  grep -qE "^ *<(-|\*\*) +$1" "$out" || { cat "$out"; fail "$2: no '$1' reply"; }
  log "$2: $(grep -E "^ *<(-|\*\*) +$1" "$out" | head -n 1 | sed 's/^ *//')"
}
# delivered TOKEN: path of the delivered message holding TOKEN (waits up to 15 s).
delivered() {
  local f="" deadline=$((SECONDS + 15))
  until [ -n "$f" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "no delivery of $1 within 15 s"
    sleep 0.1
    f="$(grep -lsF "$1" "$mail_dir"/user/new/* 2>/dev/null | head -n 1)"
  done
  echo "$f"
}
not_delivered() {
  ! grep -qsF "$1" "$mail_dir"/user/new/* 2>/dev/null || fail "$1 was delivered"
}
# retry_until_accepted FROM TOKEN T0 [args]: resend until 250 after DATA (bounded by the delay).
retry_until_accepted() {
  local from="$1" token="$2" t0="$3"
  shift 3
  local deadline=$((t0 + delay_s + 20))
  while :; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$token: not accepted $((delay_s + 20)) s after the first try"
    sleep 0.5
    send "$from" "$token" "$@"
    grep -qE '^ *<- +250 .*queued as' "$out" && break
    grep -qE '^ *<\*\* +451 4\.7\.1 ' "$out" || { cat "$out"; fail "$token: retry neither 250 nor 451"; }
  done
  local waited=$((SECONDS - t0))
  log "$token: accepted after ~${waited} s"
  [ "$waited" -ge $((delay_s - 1)) ] || fail "$token accepted after $waited s, before the delay"
}

readonly gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
tok="gf-$$-$RANDOM"

# 1. GTUBE: rejected at the end of DATA.
send a@sender.test "$tok-gtube" --body "gtube $tok-gtube $gtube"
[ "$rc" -ne 0 ] || { cat "$out"; fail "GTUBE was accepted"; }
replied '550 5.7.1 Message rejected as spam' "GTUBE"
grep -qE '^ *-> RCPT TO' "$out" && grep -A1 -E '^ *-> RCPT TO' "$out" | grep -qE '<- +250' ||
  fail "GTUBE: RCPT was not accepted (the rejection must come at end of DATA)"

# 2. A plain note: delivered with the X-Spam headers.
send a@sender.test "$tok-plain" --body "Lunch on Friday? $tok-plain"
[ "$rc" -eq 0 ] || { cat "$out"; fail "plain note: swaks exit $rc"; }
f="$(delivered "$tok-plain")"
for h in X-Spam-Status X-Spam-Score X-Spam-Symbols; do
  grep -qE "^$h: " "$f" || { cat "$f"; fail "plain note lacks $h"; }
done
log "plain note delivered: $(grep -E '^X-Spam-Status:' "$f")"
grep -qE '^X-Spam-Status: No, score=' "$f" || fail "plain note: X-Spam-Status is not 'No, score=...'"
not_delivered "$tok-gtube"

# 3. greylist.mode = "always": deferred at RCPT, accepted after the delay, X-Greylist.
reload always
t0="$SECONDS"
send b@sender.test "$tok-grey"
[ "$rc" -eq 24 ] || { cat "$out"; fail "first attempt: expected swaks exit 24 (RCPT refused), got $rc"; }
replied '451 4\.7\.1 ' "first attempt (always)"
retry_until_accepted b@sender.test "$tok-grey" "$t0"
f="$(delivered "$tok-grey")"
grep -qE '^X-Greylist: delayed [0-9]+ seconds by greyflux-' "$f" || { cat "$f"; fail "no X-Greylist header"; }
log "$(grep -E '^X-Greylist:' "$f")"

# 4./5. greylist.mode = "suspicious".
reload suspicious
send c@sender.test "$tok-clean" --body "See you at noon. $tok-clean"
[ "$rc" -eq 0 ] || { cat "$out"; fail "clean first message (suspicious): swaks exit $rc"; }
replied '250 .*queued as' "clean first message from a new triplet (suspicious)"
delivered "$tok-clean" >/dev/null
t0="$SECONDS"
html=(--add-header "MIME-Version: 1.0" --add-header "Content-Type: text/html; charset=us-ascii"
  --body "<html><body><p>Cheap offer $tok-html</p></body></html>")
send d@sender.test "$tok-html" "${html[@]}"
[ "$rc" -ne 0 ] || { cat "$out"; fail "grey-band message was accepted at once"; }
grep -A1 -E '^ *-> RCPT TO' "$out" | grep -qE '<- +250' ||
  { cat "$out"; fail "grey-band message: RCPT was not accepted (suspicious mode defers at DATA)"; }
replied '451 4\.7\.1 ' "grey-band message, first attempt (suspicious)"
retry_until_accepted d@sender.test "$tok-html" "$t0" "${html[@]}"
f="$(delivered "$tok-html")"
log "grey-band message delivered: $(grep -E '^X-Spam-Status:' "$f")"
grep -q "action=greylist reason=new score=0.5" "$gf_log" || fail "no greylist log line for the grey band"

# 6. A flux agent: deferred at connect, before any envelope.
cat >"$tmp/flux.rpz" <<EOF
; greyflux fast-flux response policy zone. Generated; do not edit.
\$ORIGIN rpz.greyflux.local.
\$TTL 300
@ IN SOA localhost. hostmaster.localhost. 1 3600 600 86400 300
@ IN NS localhost.
flux.example CNAME .
*.flux.example CNAME .
32.1.0.0.127.rpz-ip CNAME .
EOF
reload suspicious "$tmp/flux.rpz"
send e@sender.test "$tok-agent"
[ "$rc" -ne 0 ] || { cat "$out"; fail "flux agent: accepted"; }
replied '4[0-9][0-9] 4\.7\.1 Client host serves a fast-flux network' "flux agent"
grep -q 'milter-reject: CONNECT from' "$maillog" || fail "Postfix did not log a milter-reject at CONNECT"
not_delivered "$tok-agent"

# ---- shutdown ---------------------------------------------------------------------------------
pf_stop
kill -TERM "$server_pid"
pf_wait_gone "$server_pid" 10 || fail "greyflux still running 10 s after SIGTERM"
wait "$server_pid"
server_rc=$?
server_pid=""
[ "$server_rc" -eq 0 ] || fail "greyflux exited $server_rc on SIGTERM"
log "PASS: postfix_milter ($n SMTP transactions)"
