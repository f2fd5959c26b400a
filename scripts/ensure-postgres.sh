#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries (initdb, pg_ctl) exist, installing them with apt-get if not.
# Idempotent; used by .ci/run before the store tests (CI runs as root on a possibly fresh Debian 12).
set -euo pipefail

find_initdb() {
    command -v initdb 2>/dev/null && return 0
    for dir in /usr/local/bin /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir/initdb"; return 0; }
    done
    return 1
}

if path=$(find_initdb); then
    echo "PostgreSQL already installed: $path"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends postgresql postgresql-contrib
# The Debian package starts a cluster we do not need; the tests start their own on a free port.
$SUDO service postgresql stop >/dev/null 2>&1 || true

path=$(find_initdb) || { echo "initdb still missing after install" >&2; exit 1; }
echo "PostgreSQL installed: $path"
