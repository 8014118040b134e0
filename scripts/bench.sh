#!/usr/bin/env bash
# make bench: the scale dataset on a private PostgreSQL and Redis, the web (gthread), realtime
# (gevent) and worker processes as in the Procfile, a bare Flask "hello" under the same gunicorn
# configuration as the web process; then bench/run.py measures (see its docstring).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
# a request over 50 ms is a warning with its SQL and collector time, kept in the logs below
export TZ=UTC LOG_JSON=1 LOG_LEVEL=WARNING SLOW_REQUEST_MS=${SLOW_REQUEST_MS:-50}
WORK=$(mktemp -d /tmp/ft-bench.XXXXXX)
export BENCH_WORK=$WORK  # a process bench/run.py starts writes its log here, kept below
PIDS=()
# the processes' logs (warnings and errors only) outlive the run: a failed or odd run can be read
LOGS=${BENCH_LOGS:-/tmp/ft-bench-logs}
keep_logs() { rm -rf "$LOGS"; mkdir -p "$LOGS"; cp "$WORK"/*.log "$WORK/pg/pg.log" "$LOGS/" 2>/dev/null; }
cleanup() { set +e; for p in "${PIDS[@]}"; do kill "$p"; done; wait; keep_logs; stop_redis "$WORK"; stop_postgres "$WORK"; rm -rf "$WORK"; }
trap cleanup EXIT
REDIS_PORT=$(free_port); PG_PORT=$(free_port); APP_PORT=$(free_port); HELLO_PORT=$(free_port)
RT_PORT=$(free_port); RT2_PORT=$(free_port); ECHO_PORT=$(free_port); ECHO2_PORT=$(free_port)
export MAIL_SERVER=127.0.0.1 MAIL_PORT=$(free_port)
start_redis "$WORK" "$REDIS_PORT"
# shared_buffers as a production server has it (a quarter of the memory, at most 8 GB), not
# PostgreSQL's 128 MB default: with that, a few posts spent up to a second in their INSERT
# with no lock wait, most likely reading back pages the searches and thread pages had evicted
# (an uncached 8 kB read from this machine's disk: p99 14 ms, up to 140 ms)
BUFFERS_MB=$(awk '/MemTotal/ {m = int($2 / 4096); print (m > 8192 ? 8192 : m)}' /proc/meminfo)
PG_OPTIONS="-c shared_buffers=${BUFFERS_MB}MB" start_postgres "$WORK" "$PG_PORT" ft_bench
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/ft_bench"
export RATELIMIT_ENABLED=false PYTHONPATH=$PWD STORAGE_DIR="$WORK/storage"
# every process counts its metrics in files here, as `make run` has them (app/core/metrics.py)
export PROMETHEUS_MULTIPROC_DIR="$WORK/metrics"; mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
# webhooks are signed by bench/payments.py with this secret; no Stripe call is made
export STRIPE_SECRET_KEY=sk_test_bench STRIPE_WEBHOOK_SECRET=whsec_bench_$(.venv/bin/python -c "import secrets; print(secrets.token_hex(8))")
export SECRET_KEY=${SECRET_KEY:-$(.venv/bin/python -c "import secrets; print(secrets.token_hex(32))")}
FLASK=".venv/bin/flask --app wsgi:app"
$FLASK db upgrade >/dev/null 2>&1
$FLASK seed demo >/dev/null
echo "seeding the scale dataset (${BENCH_CLIENTS:-100000} clients, ${BENCH_EXPERTS:-10000} experts, ${BENCH_DOSSIERS:-500000} dossiers, ${BENCH_MESSAGES:-5000000} messages, ${BENCH_LEADS:-200000} leads, ${BENCH_ACTIVITIES:-1000000} activities, ${BENCH_TICKETS:-300000} tickets)"
time $FLASK seed scale --clients "${BENCH_CLIENTS:-100000}" --experts "${BENCH_EXPERTS:-10000}" \
  --dossiers "${BENCH_DOSSIERS:-500000}" --messages "${BENCH_MESSAGES:-5000000}" \
  --leads "${BENCH_LEADS:-200000}" --activities "${BENCH_ACTIVITIES:-1000000}" \
  --tickets "${BENCH_TICKETS:-300000}" | tail -1
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "vacuum analyze" ft_bench
# PostgreSQL's own account of a slow request, in the kept pg.log: statements over 50 ms, lock
# waits over 20 ms and every autovacuum, from here on (the seed's bulk statements are not news)
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qt -c "alter system set log_min_duration_statement = 50" \
  -c "alter system set deadlock_timeout = 20" -c "alter system set log_lock_waits = on" \
  -c "alter system set log_autovacuum_min_duration = 0" -c "select pg_reload_conf()" ft_bench >/dev/null

# the web configuration of the Procfile (DESIGN §2), for the app and for hello alike
GUNICORN=(.venv/bin/gunicorn --no-control-socket -k gthread -w 4 --threads 8)
"${GUNICORN[@]}" -b "127.0.0.1:$APP_PORT" wsgi:app >"$WORK/web.log" 2>&1 & PIDS+=($!)
"${GUNICORN[@]}" -b "127.0.0.1:$HELLO_PORT" --chdir bench hello:app >/dev/null 2>&1 & PIDS+=($!)
# two realtime processes on the one Redis message queue, and a bare echo pair beside them
for port in $RT_PORT $RT2_PORT; do
  .venv/bin/gunicorn --no-control-socket -k gevent -w 1 -b "127.0.0.1:$port" wsgi:realtime \
    >"$WORK/realtime-$port.log" 2>&1 & PIDS+=($!)
done
for port in $ECHO_PORT $ECHO2_PORT; do
  .venv/bin/gunicorn --no-control-socket -k gevent -w 1 -b "127.0.0.1:$port" --chdir bench echo:app \
    >/dev/null 2>&1 & PIDS+=($!)
done
# the worker sends the emails the benchmarked transitions queue, to an SMTP sink as in make run
.venv/bin/python -m app.core.mailsink --port "$MAIL_PORT" >/dev/null 2>&1 & PIDS+=($!)
.venv/bin/python -m app.worker high default >"$WORK/worker.log" 2>&1 & PIDS+=($!)
.venv/bin/python -m app.worker exports >"$WORK/exports.log" 2>&1 & PIDS+=($!)
for port in $APP_PORT $HELLO_PORT $RT_PORT $RT2_PORT; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" -o /dev/null && break; sleep 0.2; done
done

APP_PID=${PIDS[0]} APP_URL="http://127.0.0.1:$APP_PORT" HELLO_URL="http://127.0.0.1:$HELLO_PORT" \
REALTIME_URL="http://127.0.0.1:$RT_PORT" REALTIME2_URL="http://127.0.0.1:$RT2_PORT" \
ECHO_URLS="http://127.0.0.1:$ECHO_PORT,http://127.0.0.1:$ECHO2_PORT" .venv/bin/python -m bench.run "$@"
