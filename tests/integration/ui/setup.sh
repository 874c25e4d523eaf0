#!/usr/bin/env bash
# Installs playwright-core, pinned by package-lock.json, into DEST/node_modules (DEST is under
# the build tree; node_modules is never committed). It drives Debian's /usr/bin/chromium and
# downloads no browser of its own.
# Usage: setup.sh DEST
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec bash "$here/../npm_ci.sh" "$here" "${1:?usage: setup.sh DEST}"
