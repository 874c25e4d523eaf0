#!/usr/bin/env bash
# The man pages are generated from the binary (scripts/man_pages.py): they must build, render
# without a groff warning, and list every setting of `greyflux dump-config`.
set -euo pipefail
bin="$1"; src="$2"
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
python3 "$src/scripts/man_pages.py" "$bin" "$out" >/dev/null
for page in greyflux.8 greyflux.toml.5; do
  warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$out/$page" 2>&1 >/dev/null)
  if [ -n "$warnings" ]; then
    echo "$page: groff warnings:"; echo "$warnings"; exit 1
  fi
done
rendered=$(LC_ALL=C.UTF-8 MANWIDTH=200 man -l "$out/greyflux.toml.5" 2>/dev/null)
missing=0
while read -r section key; do
  grep -q "^\[$section\]" <<<"$rendered" || { echo "missing section [$section]"; missing=1; }
  grep -Eq "^ +$key = " <<<"$rendered" || { echo "missing $section.$key"; missing=1; }
done < <("$bin" dump-config | awk '/^\[/{gsub(/[\[\]]/,""); s=$0} /^[a-z0-9_]+ = /{print s, $1}')
[ "$missing" -eq 0 ]
echo "man pages render cleanly and list all $("$bin" dump-config | grep -c '^[a-z0-9_]* = ') settings"
