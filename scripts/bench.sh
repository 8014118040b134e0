#!/usr/bin/env bash
# make bench: the scale dataset on a private PostgreSQL, then wrk at 16 connections against the
# login page, the admin dashboard and the approval queue, beside a bare Flask "hello" served by
# the same gunicorn configuration in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
export TZ=UTC LOG_JSON=1 LOG_LEVEL=WARNING
WORK=$(mktemp -d /tmp/ft-bench.XXXXXX)
PIDS=()
cleanup() { set +e; for p in "${PIDS[@]}"; do kill "$p"; done; wait; stop_redis "$WORK"; stop_postgres "$WORK"; rm -rf "$WORK"; }
trap cleanup EXIT
REDIS_PORT=$(free_port); PG_PORT=$(free_port); APP_PORT=$(free_port); HELLO_PORT=$(free_port)
start_redis "$WORK" "$REDIS_PORT"
start_postgres "$WORK" "$PG_PORT" ft_bench
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/ft_bench"
export RATELIMIT_ENABLED=false
FLASK=".venv/bin/flask --app wsgi:app"
$FLASK db upgrade >/dev/null 2>&1
$FLASK seed demo >/dev/null
echo "seeding the scale dataset (${BENCH_CLIENTS:-100000} clients, ${BENCH_EXPERTS:-10000} experts)"
time $FLASK seed scale --clients "${BENCH_CLIENTS:-100000}" --experts "${BENCH_EXPERTS:-10000}" | tail -1
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "vacuum analyze" ft_bench

GUNICORN=(.venv/bin/gunicorn --no-control-socket -k gthread -w 4 --threads 8)
"${GUNICORN[@]}" -b "127.0.0.1:$APP_PORT" wsgi:app >/dev/null 2>&1 & PIDS+=($!)
"${GUNICORN[@]}" -b "127.0.0.1:$HELLO_PORT" --chdir bench hello:app >/dev/null 2>&1 & PIDS+=($!)
for port in $APP_PORT $HELLO_PORT; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" -o /dev/null && break; sleep 0.2; done
done

JAR=$WORK/cookies
TOKEN=$(curl -s -c "$JAR" "http://127.0.0.1:$APP_PORT/login" | grep -o 'name="csrf_token" type="hidden" value="[^"]*"' | sed 's/.*value="//;s/"$//')
curl -s -b "$JAR" -c "$JAR" -o /dev/null -d "csrf_token=$TOKEN&email=admin@demo-financialtracker.fr&password=demo-password-2026" "http://127.0.0.1:$APP_PORT/login"
COOKIE=$(awk '!/^#/ && NF>=7 {printf "%s=%s; ", $6, $7}' "$JAR")
cat > "$WORK/cookie.lua" <<LUA
wrk.headers["Cookie"] = "$COOKIE"
LUA

run() {  # name url [script]
  local extra=(); [ -n "${3:-}" ] && extra=(-s "$3")
  curl -s -o /dev/null -w "" ${3:+-H "Cookie: $COOKIE"} "$2"
  local out; out=$(wrk -t2 -c16 -d"${BENCH_SECONDS:-10}"s --latency "${extra[@]}" "$2")
  local rps p50 p90 p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}'); p90=$(echo "$out" | awk '$1=="90%" {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  printf "%-22s %10s req/s   p50 %8s   p90 %8s   p99 %8s\n" "$1" "$rps" "$p50" "$p90" "$p99"
  echo "$rps" > "$WORK/rps-$1"
}
echo; echo "wrk -t2 -c16 (gunicorn gthread -w 4 --threads 8, same machine as the load)"
run hello "http://127.0.0.1:$HELLO_PORT/"
run login "http://127.0.0.1:$APP_PORT/login"
run admin-dashboard "http://127.0.0.1:$APP_PORT/admin/" "$WORK/cookie.lua"
run approval-queue "http://127.0.0.1:$APP_PORT/admin/approvals" "$WORK/cookie.lua"
hello=$(cat "$WORK/rps-hello")
for page in login admin-dashboard approval-queue; do
  awk -v a="$(cat "$WORK/rps-$page")" -v h="$hello" -v p="$page" 'BEGIN {printf "%-22s %5.1f %% of hello\n", p, 100*a/h}'
done
