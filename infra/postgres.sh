#!/usr/bin/env bash
# PostgreSQL for running Muni scale-out on one machine.
#
#   infra/postgres.sh start|stop|status
#
# start: if a server already answers on 127.0.0.1:5432 (user postgres, database test, trust
# auth), use it and touch nothing. Otherwise create (once) and start a throwaway cluster under
# ./data/pg on 127.0.0.1:5433 from the installed binaries (/usr/lib/postgresql/*/bin). initdb
# refuses to run as root, so as root the cluster belongs to the `postgres` OS user (runuser).
# Either way it prints the MUNI_POSTGRES_DSN to use.
#
# stop/status only concern the throwaway cluster; a server on 5432 is never stopped.
# Environment: MUNI_PG_PORT (5433) for the throwaway cluster.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT="$(pwd)/data/pg"
DATA="$ROOT/data"
SOCK="$ROOT/sock"
LOG="$ROOT/postgres.log"
PORT="${MUNI_PG_PORT:-5433}"
DB="muni"

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then
    echo "$dir"
  elif command -v initdb >/dev/null; then
    dirname "$(command -v initdb)"
  else
    echo "postgres: no PostgreSQL binaries (install postgresql, or use infra/docker-compose.yml)" >&2
    return 1
  fi
}

as_owner() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

answers() {  # answers HOST PORT DBNAME
  local bin
  bin="$(pg_bin)" || return 1
  "$bin/psql" -X -q -h "$1" -p "$2" -U postgres -d "$3" -c 'SELECT 1' >/dev/null 2>&1
}

running_port() {  # the port the running throwaway cluster listens on (postmaster.pid line 4)
  sed -n 4p "$DATA/postmaster.pid" 2>/dev/null || echo "$PORT"
}

cluster_running() {
  [[ -f "$DATA/postmaster.pid" ]] && as_owner "$(pg_bin)/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

start() {
  if answers 127.0.0.1 5432 test; then
    echo "postgres: using the server on 127.0.0.1:5432"
    echo "MUNI_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/test"
    return 0
  fi
  local bin
  bin="$(pg_bin)"
  if cluster_running; then
    PORT="$(running_port)"
    echo "postgres: throwaway cluster already running in $DATA on 127.0.0.1:$PORT"
  else
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
      mkdir -p "$ROOT" "$SOCK"
      [[ "$(id -u)" == 0 ]] && chown -R postgres:postgres "$ROOT"
      as_owner "$bin/initdb" -D "$DATA" -U postgres -A trust -E UTF8 >"$ROOT/initdb.log" 2>&1 || {
        echo "postgres: initdb failed; see $ROOT/initdb.log" >&2
        return 1
      }
    fi
    as_owner "$bin/pg_ctl" -D "$DATA" -l "$LOG" -w -t 30 \
      -o "-p $PORT -k $SOCK -c listen_addresses=127.0.0.1" start >/dev/null || {
      echo "postgres: the cluster did not start; last lines of $LOG:" >&2
      tail -n 20 "$LOG" >&2
      return 1
    }
    echo "postgres: throwaway cluster running in $DATA on 127.0.0.1:$PORT; log $LOG"
  fi
  if ! answers 127.0.0.1 "$PORT" "$DB"; then
    "$bin/createdb" -h 127.0.0.1 -p "$PORT" -U postgres "$DB"
  fi
  echo "MUNI_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$PORT/$DB"
}

stop() {
  if cluster_running; then
    as_owner "$(pg_bin)/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    echo "postgres: throwaway cluster stopped (data kept in $DATA; delete it to start afresh)"
  else
    echo "postgres: no throwaway cluster running (a server on 5432 is never stopped from here)"
  fi
}

status() {
  if cluster_running; then
    PORT="$(running_port)"
    echo "postgres: throwaway cluster running in $DATA on 127.0.0.1:$PORT"
    echo "MUNI_POSTGRES_DSN=postgresql://postgres@127.0.0.1:$PORT/$DB"
  elif answers 127.0.0.1 5432 test; then
    echo "postgres: the server on 127.0.0.1:5432 answers"
    echo "MUNI_POSTGRES_DSN=postgresql://postgres@127.0.0.1:5432/test"
  else
    echo "postgres: nothing running"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
