#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs pytest.
# PostgreSQL (for the store and server tests) is installed with apt-get if it is missing; the tests start
# their own throwaway servers (mlflow server, PostgreSQL, asyncclient server) on 127.0.0.1.
# Chromium (for the browser tests in tests/ui) is installed the same way.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-postgres.sh
bash scripts/ensure-chromium.sh
# Azurite (Azure Blob emulator, npm) for the Azure artifact tests, into a cache folder outside the repo.
bash scripts/ensure-azurite.sh
export ASYNCCLIENT_REQUIRE_AZURITE=1
# PostgreSQL is now installed, so its tests must run, never skip.
export ASYNCCLIENT_REQUIRE_POSTGRES=1
python -m pip install --quiet -e ".[test]"
exec python -m pytest -q "$@"
