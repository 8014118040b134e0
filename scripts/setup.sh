#!/usr/bin/env bash
# Install what is missing: Debian packages (as root), the virtualenv, pinned requirements,
# compiled translations. Idempotent and quiet when everything is there. SKIP_APT=1 skips apt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PACKAGES="python3-venv redis-server postgresql chromium fonts-liberation fonts-dejavu-core wrk curl libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"

if [ "${SKIP_APT:-0}" != 1 ]; then
  missing=""
  for p in $PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
  if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    echo "[setup] apt-get install$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  fi
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
REQ_HASH=$(sha256sum requirements.txt | cut -d' ' -f1)
if [ "$(cat .venv/.req-hash 2>/dev/null)" != "$REQ_HASH" ]; then
  echo "[setup] pip install -r requirements.txt"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  echo "$REQ_HASH" > .venv/.req-hash
fi
# never `playwright install`: the browser tests drive Debian's /usr/bin/chromium
.venv/bin/pybabel -q compile -d translations
