#!/usr/bin/env bash
# Installs the npm packages pinned by SRC/package-lock.json into DEST/node_modules with `npm ci`
# (DEST is under the build tree; node_modules is never committed). Skipped when DEST already
# holds an install of the same lock file. Shared by the integration suites' setup.sh fixtures.
# Usage: npm_ci.sh SRC DEST
set -euo pipefail
src="${1:?usage: npm_ci.sh SRC DEST}"
dest="${2:?usage: npm_ci.sh SRC DEST}"
mkdir -p "$dest"
stamp="$dest/.installed-lock"
if [ -f "$stamp" ] && cmp -s "$stamp" "$src/package-lock.json" && [ -d "$dest/node_modules" ]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  echo "npm_ci.sh: npm is missing (scripts/deps.sh test installs it)" >&2
  exit 1
fi
cp "$src/package.json" "$src/package-lock.json" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
cp "$src/package-lock.json" "$stamp"
