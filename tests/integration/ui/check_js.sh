#!/usr/bin/env bash
# Every dashboard script (web/ui/js/*.js, ES modules) parses: `node --check` on each, so a syntax
# error fails here, not only as a blank page in the browser test. Exit 77 (skipped) without node.
# Usage: check_js.sh WEB_UI_DIR
set -euo pipefail
dir="${1:?usage: check_js.sh WEB_UI_DIR}"
if ! command -v node >/dev/null; then
  echo "check_js.sh: node is missing (scripts/deps.sh test installs nodejs): skipped" >&2
  exit 77
fi
n=0
for f in "$dir"/js/*.js; do
  node --experimental-default-type=module --check "$f"
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "check_js.sh: no scripts under $dir/js" >&2; exit 1; }
echo "check_js.sh: $n scripts parse"
