#!/usr/bin/env bash
# Creates .venv (if missing) and installs WardWatch into it; with --test also the test extras and the
# system tools the tests drive for real (Mosquitto, Chromium), when this machine lets us install them.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "WardWatch needs Python >= 3.11 (found: $("$PYTHON" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.wardwatch-installed
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
want="$(sha256sum pyproject.toml | cut -c1-16)${extras}"
if [ ! -f "$stamp" ] || ! grep -qxF "$want" "$stamp"; then
  echo "Installing WardWatch${extras} into .venv (the first run downloads packages: about a minute)..." >&2
  if ! { .venv/bin/python -m pip install --quiet --upgrade pip && .venv/bin/python -m pip install -e ".${extras}"; } \
      > .venv/install.log 2>&1; then
    tail -n 30 .venv/install.log >&2
    echo "installation failed; the full log is in .venv/install.log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

if [ "${1:-}" = "--test" ]; then
  apt_install() {
    if [ "$(id -u)" = 0 ]; then
      apt-get install -y -q "$@" >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q "$@" >/dev/null; }
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      sudo apt-get install -y -q "$@" >/dev/null 2>&1 || { sudo apt-get update -q >/dev/null && sudo apt-get install -y -q "$@" >/dev/null; }
    else
      echo "note: cannot install $* (not root); tests that need it will skip outside CI" >&2
      return 0
    fi
  }
  command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || apt_install mosquitto mosquitto-clients
  command -v chromium >/dev/null || [ -x /usr/bin/chromium ] || apt_install chromium
  if command -v pg_ctlcluster >/dev/null || command -v initdb >/dev/null || [ -d /usr/lib/postgresql ]; then :; else
    apt_install postgresql || true
  fi
  # the storage tests run on PostgreSQL too: start the installed cluster when nothing listens on 5432
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && \
     ! (command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432); then
    for version in $(ls /etc/postgresql); do
      pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
    done
    conf=$(ls /etc/postgresql/*/main/pg_hba.conf 2>/dev/null | head -n1)
    if [ -n "$conf" ] && ! grep -q "^host all all 127.0.0.1/32 trust" "$conf" && [ -w "$conf" ]; then
      sed -i '1i host all all 127.0.0.1/32 trust' "$conf"  # tests connect as postgres without a password
      for version in $(ls /etc/postgresql); do
        pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
      done
    fi
  fi
fi
