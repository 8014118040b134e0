# Sourced by run.sh, test.sh and bench.sh: private Redis and PostgreSQL on loopback ports.
free_port() { .venv/bin/python -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

start_redis() {  # $1 dir, $2 port
  redis-server --port "$2" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$1/redis.pid" --logfile "$1/redis.log" --dir "$1"
  for _ in $(seq 50); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "redis did not start" >&2; return 1
}
stop_redis() { [ -f "$1/redis.pid" ] && kill "$(cat "$1/redis.pid")" 2>/dev/null || true; }

start_postgres() {  # $1 dir, $2 port, $3 database; PG_OPTIONS: more "-c name=value" settings
  chmod 755 "$1"; mkdir -p "$1/pg"; [ "$(id -u)" = 0 ] && chown postgres:postgres "$1/pg"
  as_pg "$PGBIN/initdb" -D "$1/pg/data" -U postgres -A trust -E UTF8 --no-sync >"$1/initdb.log"
  as_pg "$PGBIN/pg_ctl" -D "$1/pg/data" -l "$1/pg/pg.log" -w \
    -o "-p $2 -k $1/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_OPTIONS:-}" start >/dev/null
  psql -h 127.0.0.1 -p "$2" -U postgres -qc "create database $3"
}
stop_postgres() {
  [ -f "$1/pg/data/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" -D "$1/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}
