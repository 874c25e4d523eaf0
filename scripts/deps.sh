#!/usr/bin/env bash
# Installs the Debian 12 packages greyflux needs, only those that are missing.
# Usage: scripts/deps.sh [build|test|package|bench]...   (default: build)
set -euo pipefail

build_pkgs=(
  cmake ninja-build ccache g++ pkg-config
  libboost1.81-dev libboost-json1.81-dev
  libtomlplusplus-dev libspdlog-dev libfmt-dev libcli11-dev libexpected-dev
  liblmdb-dev libpsl-dev publicsuffix libxxhash-dev libutf8proc-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # fast-flux detector: captures, dnstap (dnstap.proto from the Go package), ASN data, resolver
  libpcap-dev libfstrm-dev libprotobuf-c-dev protobuf-c-compiler golang-github-dnstap-golang-dnstap-dev
  libmaxminddb-dev libunbound-dev
  # country fallback without ASN data: libgeoip and Debian's country database (flux.geoip_db)
  libgeoip-dev geoip-database
  # mail scanner
  libgmime-3.0-dev zlib1g-dev
  # shared state on Redis ([store] backend = "redis")
  libhiredis-dev
  # allocator of the daemon binary
  libjemalloc-dev
  # SHA-256 and constant-time compare of the admin API's tokens (libcrypto)
  libssl-dev
)
test_pkgs=(postfix swaks miltertest procps iproute2 python3 unbound dnsutils libnet-akismet-perl spamc spamd
  spamassassin
  # Redis store tests start Debian's redis-server on loopback (redis-tools comes with it)
  redis-server
  # mdb_dump: the store copy round trip (tests/integration/redis) compares LMDB files, and the
  # kill -9 test of the comment API reads its LMDB store offline
  lmdb-utils
  # promtool (tests/integration/metrics: `promtool check metrics` on the /metrics scrape)
  prometheus
  # WordPress end to end (tests/integration/wordpress): the blog, PHP's built-in server, a
  # private MariaDB, chromium for playwright-core. nginx only satisfies wordpress's
  # "apache2 | httpd" dependency without Apache; the test does not use it.
  wordpress wordpress-theme-twentytwentythree php-cli php-mysql php-curl mariadb-server chromium
  nginx)
# `make deb` (dpkg-buildpackage, debhelper, lintian; the man pages are rendered by man-db) and
# `make test-package` (setpriv from util-linux, spamc from the test tier; systemd for
# systemd-analyze, systemd-sysusers and systemd-tmpfiles, which CI images often lack;
# hardening-check from devscripts and readelf from binutils for the binary's hardening)
package_pkgs=(dpkg-dev debhelper lintian man-db groff-base python3 util-linux systemd devscripts
  binutils)
bench_pkgs=(postgrey gross lmdb-utils tshark wrk nginx-light bogofilter spamc spamd spamassassin
  # milter benchmark anchor (bench/milter): Rspamd's proxy worker + its Redis
  rspamd redis-server
  # bench/soak's plot (PNG via pngcairo). Not python3-matplotlib: on Debian 12 it pulls in
  # python3-scipy -> python3-pythran -> libboost1.74-dev, which conflicts with libboost1.81-dev.
  gnuplot-nox)

want=()
[ $# -eq 0 ] && set -- build
for tier in "$@"; do
  case "$tier" in
    build) want+=("${build_pkgs[@]}") ;;
    test) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${package_pkgs[@]}") ;;
    package) want+=("${build_pkgs[@]}" "${package_pkgs[@]}") ;;
    bench) want+=("${build_pkgs[@]}" "${test_pkgs[@]}" "${bench_pkgs[@]}") ;;
    *) echo "deps.sh: unknown tier '$tier' (build|test|package|bench)" >&2; exit 2 ;;
  esac
done

# The Akismet integration tests run npm clients: Debian's nodejs + npm, unless a node with npm
# is already installed some other way.
case " $* " in *" test "*|*" bench "*)
  command -v npm >/dev/null || want+=(nodejs npm) ;;
esac

missing=()
for p in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix asks debconf questions; answer them so the install never prompts.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
# tshark (flux benchmark anchor) asks whether non-root users may capture; they may not.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
