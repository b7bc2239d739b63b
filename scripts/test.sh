#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh --test
exec .venv/bin/python -m pytest "$@"
