#!/usr/bin/env bash
# Make sure Azurite (Microsoft's Azure Storage emulator, from npm) is installed for the Azure Blob artifact
# tests, into a cache folder outside the repository; installs Node.js with apt-get when npm is missing.
# Idempotent. The tests start their own Azurite on 127.0.0.1 and a free port (tests/artifacts/conftest.py).
set -euo pipefail

DIR="${ASYNCCLIENT_AZURITE_DIR:-$HOME/.cache/asyncclient-azurite}"
VERSION="3.35.0"
BIN="$DIR/node_modules/.bin/azurite-blob"

if [ -x "$BIN" ]; then
    echo "Azurite already installed: $BIN"
    exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends nodejs npm
fi
mkdir -p "$DIR"
npm install --prefix "$DIR" --no-audit --no-fund --silent "azurite@$VERSION"
[ -x "$BIN" ] || { echo "azurite-blob missing after npm install" >&2; exit 1; }
echo "Azurite installed: $BIN"
