#!/usr/bin/env bash
# pcap ingestion: greyflux (parse + features, one core) next to `tshark -r` on the same file.
# Usage: bench/flux/ingest_bench.sh [BUILD_DIR] [RESPONSES]   (needs tshark: deps.sh bench)
set -euo pipefail
build="${1:-build/release}"
n="${2:-2000000}"
dir=$(mktemp -d /tmp/gf-flux-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$build/bench/flux/gf_flux_fixtures" "$dir" >/dev/null            # asn.tsv and labels
"$build/bench/flux/gf_flux_fixtures" "$dir" --bench-responses "$n" >/dev/null
echo "file: $(du -h "$dir/bench.pcap" | cut -f1) pcap, $n DNS responses"
taskset -c 0 "$build/bench/flux/gf_flux_ingest_bench" "$dir/bench.pcap" --asn "$dir/asn.tsv" \
  | tee "$dir/gf.txt"
gf_rate=$(sed -n 's/.*= \([0-9]*\) responses\/s.*/\1/p' "$dir/gf.txt")
if command -v tshark >/dev/null; then
  cat "$dir/bench.pcap" >/dev/null  # page cache, as for greyflux
  start=$(date +%s.%N)
  taskset -c 0 tshark -r "$dir/bench.pcap" -n -T fields -e dns.qry.name -e dns.a >/dev/null 2>&1
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" -v n="$n" -v g="$gf_rate" 'BEGIN {
    t = e - s; r = n / t;
    printf "tshark -r (dns.qry.name, dns.a fields): %.2f s = %.0f responses/s\n", t, r;
    printf "ratio: greyflux is %.1fx tshark\n", g / r }'
else
  echo "tshark not installed (bash scripts/deps.sh bench): anchor skipped"
fi
