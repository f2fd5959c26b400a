#!/usr/bin/env bash
# Make sure Debian's Chromium exists for the browser tests (tests/ui), installing it with apt-get if not.
# Playwright drives this binary; it never downloads a browser of its own. Idempotent, like ensure-postgres.sh.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    echo "Chromium already installed: /usr/bin/chromium"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium

[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium still missing after install" >&2; exit 1; }
echo "Chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
