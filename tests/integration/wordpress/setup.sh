#!/usr/bin/env bash
# Installs playwright-core, pinned by package-lock.json, into DEST/node_modules (DEST is under
# the build tree; node_modules is never committed). It drives Debian's /usr/bin/chromium and
# downloads no browser of its own.
# Usage: setup.sh DEST
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dest="${1:?usage: setup.sh DEST}"
mkdir -p "$dest"
stamp="$dest/.installed-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$here/package-lock.json" && [ -d "$dest/node_modules" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "setup.sh: npm is missing (scripts/deps.sh test installs it)" >&2
  exit 1
fi
cp "$here/package.json" "$here/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cp "$here/package-lock.json" "$stamp"
