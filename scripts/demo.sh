#!/usr/bin/env bash
# One command for a working ward: installs WardWatch into .venv and runs the demo (embedded broker,
# simulated beds, monitor, dashboard at http://127.0.0.1:8000). Extra arguments go to `wardwatch demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
exec .venv/bin/wardwatch demo "$@"
