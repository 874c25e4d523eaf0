#!/usr/bin/env bash
# etc/greyflux.toml must be valid and name every setting of `greyflux dump-config`, no more.
set -euo pipefail
bin="$1"; sample="$2"
"$bin" check-config "$sample" >/dev/null
# Every bare key (letters, digits, '_' and '-', as TOML allows), with or without spaces before '='.
keys() {
  awk '/^\[/{gsub(/[\[\] \t]/,""); s=$0}
       /^[A-Za-z0-9_-]+[ \t]*=/{k=$0; sub(/[ \t]*=.*/,"",k); print s"."k}' "$1" | sort
}
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
"$bin" dump-config > "$tmp"
if ! diff <(keys "$tmp") <(keys "$sample"); then
  echo "etc/greyflux.toml and dump-config disagree (< program, > sample)"; exit 1
fi
echo "sample config documents all $(keys "$tmp" | wc -l) settings"
