#!/usr/bin/env bash
# make test: a private Redis and PostgreSQL on free loopback ports, then the whole suite on
# PostgreSQL and again on SQLite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
export TZ=UTC LOG_JSON=0 LOG_LEVEL=WARNING CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
WORK=$(mktemp -d /tmp/ft-test.XXXXXX)
cleanup() { set +e; stop_redis "$WORK"; stop_postgres "$WORK"; rm -rf "$WORK"; }
trap cleanup EXIT

REDIS_PORT=$(free_port); PG_PORT=$(free_port)
start_redis "$WORK" "$REDIS_PORT"
start_postgres "$WORK" "$PG_PORT" ft_test
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"

status=0
for db in postgresql sqlite; do
  if [ "$db" = postgresql ]; then
    export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/ft_test"
  else
    export DATABASE_URL="sqlite:///$WORK/ft_test.db"
  fi
  echo "=== test suite on $db ==="
  # --durations: the slowest tests are printed, so the next change knows where the time goes
  .venv/bin/python -m pytest -q -p no:cacheprovider --durations=15 --basetemp "$WORK/pytest-$db" "$@" || status=$?
done
exit $status
