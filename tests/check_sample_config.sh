#!/usr/bin/env bash
# etc/greyflux.toml must be valid and name every setting of `greyflux dump-config`, no more.
set -euo pipefail
bin="$1"; sample="$2"
"$bin" check-config "$sample" >/dev/null
keys() { awk '/^\[/{gsub(/[\[\]]/,""); s=$0} /^[a-z_]+ *=/{print s"."$1}' "$1" | sort; }
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
"$bin" dump-config > "$tmp"
if ! diff <(keys "$tmp") <(keys "$sample"); then
  echo "etc/greyflux.toml and dump-config disagree (< program, > sample)"; exit 1
fi
echo "sample config documents all $(keys "$tmp" | wc -l) settings"
