# Shared by bench/milter/run.sh and e2e.sh (sourced, not run): free loopback ports, readiness
# waits, and the private servers of the milter benchmark, each stopped by its PID from the
# caller's EXIT trap (stop_all).
#
#   Redis (Debian)      redis-server on 127.0.0.1:<free port>, no persistence
#   DNS stub            bench/milter/dns_stub.py: NXDOMAIN for everything, 127.0.0.1:<free port>
#   Rspamd (Debian)     /etc/rspamd's stock rules with a private top-level config: proxy worker
#                       in milter mode -> normal worker (Debian's layout), controller for
#                       learning, Redis above, the DNS stub as its only resolver, and every
#                       module that needs the network off (local rules only)
#   greyflux            `greyflux serve` with [milter] listen, the mail model trained on the
#                       corpus's training half, memory store
#
# Nothing here talks to an address outside 127.0.0.0/8.

gf_milter_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
started_pids=()
started_names=()

log() { printf '[milter-bench +%3ds] %s\n' "$SECONDS" "$*"; }
die() {
  printf '[milter-bench +%3ds] ERROR: %s\n' "$SECONDS" "$*" >&2
  exit 1
}

picked_ports=()
# A free TCP port below the ephemeral range, not handed out before in this run.
pick_port() {
  local port _
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    [[ " ${picked_ports[*]-} " == *" $port "* ]] && continue
    if [ -z "$(ss -Hatun "( sport = :$port )")" ]; then
      picked_ports+=("$port")
      echo "$port"
      return 0
    fi
  done
  return 1
}

# wait_port PORT PID NAME TIMEOUT_S [LOG]: until 127.0.0.1:PORT accepts, failing if PID died.
wait_port() {
  local deadline=$((SECONDS + $4))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if [ -n "$2" ] && ! kill -0 "$2" 2>/dev/null; then
      [ -n "${5-}" ] && tail -n 20 "$5" >&2
      die "$3 exited before listening on 127.0.0.1:$1"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { [ -n "${5-}" ] && tail -n 20 "$5" >&2; die "$3 not listening on 127.0.0.1:$1 after $4 s"; }
    sleep 0.1
  done
}

remember() {
  started_pids+=("$1")
  started_names+=("$2")
}

# Stops everything started here, newest first, by PID (TERM, then KILL after 10 s).
stop_all() {
  local i pid
  for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
    pid="${started_pids[$i]}"
    kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null
    local deadline=$((SECONDS + 10))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { log "${started_names[$i]} ($pid) did not stop; KILL"; kill -KILL "$pid" 2>/dev/null; }
  done
  started_pids=()
  started_names=()
}

# start_redis DIR -> sets redis_port
start_redis() {
  redis_port="$(pick_port)" || die "no free port for redis"
  mkdir -p "$1"
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no \
    --dir "$1" --logfile "$1/redis.log" --daemonize no --protected-mode yes >/dev/null 2>&1 &
  remember $! redis
  wait_port "$redis_port" "$!" redis-server 15 "$1/redis.log"
  log "redis-server (pid $!) on 127.0.0.1:$redis_port"
}

# start_dns_stub DIR -> sets dns_port
start_dns_stub() {
  dns_port="$(pick_port)" || die "no free port for the DNS stub"
  python3 "$gf_milter_here/dns_stub.py" "$dns_port" >"$1/dns_stub.log" 2>&1 &
  local pid=$!
  remember "$pid" dns-stub
  local deadline=$((SECONDS + 15))
  until grep -q "^dns stub on" "$1/dns_stub.log" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || { cat "$1/dns_stub.log" >&2; die "DNS stub exited"; }
    [ "$SECONDS" -lt "$deadline" ] || die "DNS stub not ready after 15 s"
    sleep 0.1
  done
  log "DNS stub (pid $pid) on 127.0.0.1:$dns_port (UDP+TCP, NXDOMAIN for all)"
}

# Modules that would query DNS, fetch maps over HTTP or talk to remote services.
rspamd_network_modules=(rbl surbl spf dkim dmarc arc asn fuzzy_check whitelist phishing multimap
  url_redirector rspamd_update mx_check hfilter emails reputation external_services antivirus
  dcc p0f clickhouse elastic metric_exporter bimi)

# start_rspamd DIR HS_CACHE_DIR -> sets rspamd_milter_port, rspamd_controller_port; needs
# redis_port and dns_port. Env: RSPAMD_NORMAL_COUNT (default 2, one per core), RSPAMD_PROXY_COUNT
# (default 1, Debian's), RSPAMD_SELF_SCAN=1 to scan inside the proxy instead.
start_rspamd() {
  local dir="$1" hs="$2"
  local normal_port
  rspamd_milter_port="$(pick_port)" || die "no free port"
  normal_port="$(pick_port)" || die "no free port"
  rspamd_controller_port="$(pick_port)" || die "no free port"
  mkdir -p "$dir/local/local.d" "$dir/db" "$dir/run" "$dir/log" "$hs"
  local m
  for m in "${rspamd_network_modules[@]}"; do
    echo "enabled = false;" >"$dir/local/local.d/$m.conf"
  done
  cat >"$dir/local/local.d/options.inc" <<EOF
dns {
  nameserver = ["127.0.0.1:$dns_port"];
  timeout = 0.5s;
  retransmits = 1;
}
hs_cache_dir = "$hs";
EOF
  echo "servers = \"127.0.0.1:$redis_port\";" >"$dir/local/local.d/redis.conf"
  local upstream="hosts = \"127.0.0.1:$normal_port\";"
  [ "${RSPAMD_SELF_SCAN:-0}" = 1 ] && upstream="self_scan = yes;"
  # The top level of /etc/rspamd/rspamd.conf with private ports and paths.
  cat >"$dir/rspamd.conf" <<EOF
.include "\$CONFDIR/common.conf"
options {
  pidfile = "\$RUNDIR/rspamd.pid";
  .include "\$CONFDIR/options.inc"
  .include(try=true; priority=1,duplicate=merge) "\$LOCAL_CONFDIR/local.d/options.inc"
}
logging {
  type = "file";
  filename = "\$LOGDIR/rspamd.log";
  .include "\$CONFDIR/logging.inc"
}
worker "normal" {
  bind_socket = "127.0.0.1:$normal_port";
  .include "\$CONFDIR/worker-normal.inc"
  count = ${RSPAMD_NORMAL_COUNT:-2};
}
worker "controller" {
  bind_socket = "127.0.0.1:$rspamd_controller_port";
  .include "\$CONFDIR/worker-controller.inc"
}
worker "rspamd_proxy" {
  bind_socket = "127.0.0.1:$rspamd_milter_port";
  milter = yes;
  timeout = 120s;
  upstream "local" {
    default = yes;
    $upstream
  }
  count = ${RSPAMD_PROXY_COUNT:-1};
  max_retries = 5;
  discard_on_reject = false;
  quarantine_on_reject = false;
  spam_header = "X-Spam";
  reject_message = "Spam message rejected";
}
EOF
  chown -R _rspamd:_rspamd "$dir/db" "$dir/run" "$dir/log" "$hs"
  rspamd -f -u _rspamd -g _rspamd -c "$dir/rspamd.conf" \
    --var="LOCAL_CONFDIR=$dir/local" --var="DBDIR=$dir/db" --var="RUNDIR=$dir/run" \
    --var="LOGDIR=$dir/log" >"$dir/rspamd.out" 2>&1 &
  remember $! rspamd
  local pid=$!
  wait_port "$rspamd_milter_port" "$pid" "rspamd proxy" 240 "$dir/log/rspamd.log"
  wait_port "$normal_port" "$pid" "rspamd normal worker" 60 "$dir/log/rspamd.log"
  wait_port "$rspamd_controller_port" "$pid" "rspamd controller" 60 "$dir/log/rspamd.log"
  log "rspamd $(rspamd -v 2>/dev/null | grep -oE '[0-9]+\.[0-9.]+' | head -1) (pid $pid): milter" \
    "127.0.0.1:$rspamd_milter_port -> normal 127.0.0.1:$normal_port" \
    "(${RSPAMD_NORMAL_COUNT:-2} processes, proxy ${RSPAMD_PROXY_COUNT:-1}), controller" \
    "127.0.0.1:$rspamd_controller_port"
}

# wait_rspamd_hyperscan DIR: until the normal workers scan with hyperscan (before that they use
# PCRE). A complete cache is loaded by the main process before it forks the workers; otherwise
# the hs_helper compiles and each normal worker loads the new database.
wait_rspamd_hyperscan() {
  local logf="$1/log/rspamd.log" deadline=$((SECONDS + 240))
  until grep -q '(main).*full hyperscan database of [0-9]* regexps has been loaded' "$logf" ||
    [ "$(grep -c '(normal).*full hyperscan database of [0-9]* regexps has been loaded' "$logf")" \
      -ge "${RSPAMD_NORMAL_COUNT:-2}" ]; do
    [ "$SECONDS" -lt "$deadline" ] || die "rspamd: hyperscan database not loaded after 240 s"
    sleep 1
  done
  log "rspamd: hyperscan database loaded"
}

# rspamd_learn DIR N: Rspamd's Bayes learns the first N of DIR/train.spam and DIR/train.ham
# (message paths) through the controller; 200 each is its minimum to classify.
rspamd_learn() {
  local t0=$SECONDS cls
  for cls in spam ham; do
    head -n "$2" "$1/train.$cls" | xargs rspamc -h "127.0.0.1:$rspamd_controller_port" -P q1 \
      -t 60 "learn_$cls" >"$1/learn.$cls" 2>&1 || { tail "$1/learn.$cls"; die "rspamc learn_$cls failed"; }
  done
  log "rspamd Bayes: learned $2 spam + $2 ham in $((SECONDS - t0)) s" \
    "($(cat "$1"/learn.* | grep -c 'success = true') accepted)"
}

# gf_has_milter BINARY: whether this greyflux build has the `[milter] listen` setting.
gf_has_milter() {
  [ -x "$1" ] && "$1" dump-config 2>/dev/null |
    awk '/^\[milter\]/ {m = 1} m && /^listen =/ {f = 1} END {exit !f}'
}

# start_greyflux_milter DIR BINARY SPAM_LIST HAM_LIST -> sets gf_milter_port. The mail model
# learned from the two lists (`greyflux learn`), LMDB store, greylist.mode = "suspicious"
# (Rspamd's greylist module also greylists by score), every decision logged at info.
start_greyflux_milter() {
  local dir="$1" bin="$2" t0=$SECONDS policy_port
  gf_milter_port="$(pick_port)" || die "no free port"
  policy_port="$(pick_port)" || die "no free port"  # greyflux needs one; unused here
  mkdir -p "$dir"
  cat >"$dir/greyflux.toml" <<EOT
[daemon]
data_dir = "$dir"
[store]
backend = "lmdb"
path = "greylist.lmdb"
[policy]
listen = ["127.0.0.1:$policy_port"]
[greylist]
mode = "suspicious"
[milter]
listen = ["127.0.0.1:$gf_milter_port"]
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
file = "$dir/greyflux.log"
EOT
  "$bin" learn --config "$dir/greyflux.toml" --spam $(cat "$3") --ham $(cat "$4") \
    >"$dir/learn.log" 2>&1 || { tail "$dir/learn.log"; die "greyflux learn failed"; }
  log "greyflux learn: $(wc -l <"$3") spam + $(wc -l <"$4") ham in $((SECONDS - t0)) s"
  "$bin" serve --config "$dir/greyflux.toml" --set daemon.user=root >"$dir/serve.out" 2>&1 &
  remember $! greyflux
  wait_port "$gf_milter_port" "$!" greyflux 60 "$dir/serve.out"
  log "greyflux (pid $!) milter on 127.0.0.1:$gf_milter_port"
}

# offloopback NAME_RE: peers outside loopback of the sockets held by processes named NAME_RE.
offloopback() {
  ss -Htunp 2>/dev/null | grep -E "users:\(\(\"($1)\"" | awk '{print $6}' |
    grep -vE '^(127\.|\[::1\]|\[::ffff:127\.|\*|0\.0\.0\.0)' | sort -u
}
