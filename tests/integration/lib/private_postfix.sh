# shellcheck shell=bash
# A private Postfix instance for the tests and benchmarks that need a real MTA: its own config,
# queue and data directories under the caller's temp dir, smtpd on 127.0.0.1 only, nothing read
# from /etc/postfix (which may have no main.cf at all: Debian's "No configuration" install),
# peer-name lookups off, no port 25, no pickup, chroot off everywhere. Needs root (the master
# starts as root and drops to the postfix user).
#
# Source it after setting: tmp (0755: postfix and nobody traverse it), conf_dir, queue_dir,
# maillog. Then:
#   pf_write_config SMTP_PORT LABEL DELIVERY <<EOF ... EOF
#       main.cf = the common lines (myhostname mx.LABEL.greyflux.test) + the caller's lines on
#       stdin; master.cf = smtpd on 127.0.0.1:SMTP_PORT, the core services, the DELIVERY
#       service line (virtual(8) or smtp(8)) and postlogd.
#   pf_start TIMEOUT_S     starts the master (postfix_up=1 first, so an EXIT trap stops it even
#                          when the start fails half way); non-zero with the log on stderr on failure
#   pf_master_pid          the live master's PID (non-zero status when there is none)
#   pf_wait_gone PID S     polls until PID is gone; non-zero after S seconds
#   pf_stop                `postfix stop`; kills the master's process group if it lingers.
#                          Safe to call twice and before pf_start.
postfix_up=0

pf_master_pid() {
  local pid
  pid="$(tr -dc '0-9' <"$queue_dir/pid/master.pid" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

pf_wait_gone() {
  local deadline=$((SECONDS + $2))
  while kill -0 "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.1
  done
}

pf_stop() {
  [ "$postfix_up" -eq 1 ] || return 0
  postfix_up=0
  local pid
  pid="$(pf_master_pid)" || pid=""
  timeout 20 postfix -c "$conf_dir" stop >/dev/null 2>&1
  # The master is a session leader and takes its children down with it; if it does not exit in
  # time, kill its whole process group.
  if [ -n "$pid" ] && ! pf_wait_gone "$pid" 10; then
    echo "postfix master $pid did not stop; killing its process group" >&2
    kill -KILL -- "-$pid" 2>/dev/null
  fi
}

pf_write_config() {
  local smtp_port="$1" label="$2" delivery="$3"
  mkdir -p "$conf_dir" "$queue_dir"
  {
    cat <<CF
compatibility_level = 3.6
queue_directory = $queue_dir
data_directory = $tmp/postfix/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $maillog
maillog_file_prefixes = $tmp
myhostname = mx.$label.greyflux.test
mydomain = $label.greyflux.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = no
CF
    cat
  } >"$conf_dir/main.cf"
  cat >"$conf_dir/master.cf" <<CF
127.0.0.1:$smtp_port inet n - n - - smtpd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
anvil     unix  -       -       n       -       1       anvil
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
$delivery
postlog   unix-dgram n  -       n       -       1       postlogd
CF
}

pf_start() {
  postfix_up=1
  if ! timeout "$1" postfix -c "$conf_dir" start >"$tmp/postfix-start.log" 2>&1; then
    cat "$tmp/postfix-start.log" >&2
    return 1
  fi
}
