#!/usr/bin/env bash
# Local DynamoDB: moto (from .venv, through moto_serialized.py) on 127.0.0.1:${DYNAMODB_PORT:-8000}.
#
#   emulator.sh start    start in the background unless already running; wait until it answers
#   emulator.sh stop     stop it and wait for it to exit
#   emulator.sh status   exit 0 if running and answering, 3 otherwise
#   emulator.sh reset    drop all data (POST /moto-api/reset)
#
# Each port has its own pid file and log (.local/moto-PORT.{pid,log}), so the
# test emulator (make test, port 8001) never disturbs the one `make run` uses.
# The server runs in its own session: Ctrl-C in the terminal that started it
# does not kill it, and its data survives a restart of `make run`.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
port="${DYNAMODB_PORT:-8000}"
[[ "$port" =~ ^[0-9]+$ ]] || { echo "emulator: error: DYNAMODB_PORT must be a port number, got: $port" >&2; exit 2; }
url="http://127.0.0.1:$port"
state="$root/.local"
pid_file="$state/moto-$port.pid"
log_file="$state/moto-$port.log"
python="$root/.venv/bin/python"
moto="$root/infra/scripts/moto_serialized.py"


api() { python3 "$root/infra/scripts/moto_api.py" "$@"; }
answers() { api ping "$url"; }
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

# The pid from the pid file, if that process is alive and is our moto_server.
our_pid() {
  local pid
  pid="$(cat "$pid_file" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null \
    && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "moto_serialized.py -H 127.0.0.1 -p $port" \
    && echo "$pid"
}

log_tail() { say "last lines of $log_file:"; tail -n 20 "$log_file" >&2 2>/dev/null || true; }

wait_until_answering() {
  local pid="$1" i
  for ((i = 0; i < 75; i++)); do            # 75 x 0.2 s = 15 s
    answers && return 0
    kill -0 "$pid" 2>/dev/null || { log_tail; die "moto_server (pid $pid) exited during start-up"; }
    sleep 0.2
  done
  log_tail
  die "moto_server (pid $pid) did not answer on $url within 15 s"
}

start() {
  local pid
  if pid="$(our_pid)"; then
    wait_until_answering "$pid"
    say "already running on $url (pid $pid)"
    return 0
  fi
  rm -f "$pid_file"
  if port_in_use; then
    say "error: port $port is already in use by another process:"
    ss -ltnpH "sport = :$port" >&2 2>/dev/null || true
    die "stop that process, or pick another port: DYNAMODB_PORT=NNNN"
  fi
  [[ -x "$python" ]] || die "$python not found; run infra/scripts/bootstrap.sh first"
  mkdir -p "$state"
  setsid "$python" "$moto" -H 127.0.0.1 -p "$port" >"$log_file" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pid_file"
  wait_until_answering "$pid"
  say "started on $url (pid $pid, log $log_file)"
}

stop() {
  local pid i
  if ! pid="$(our_pid)"; then
    rm -f "$pid_file"
    say "not running on port $port"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do            # 10 s, then SIGKILL
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid ignored SIGTERM; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$pid_file"
  say "stopped (pid $pid)"
}

status() {
  local pid
  if pid="$(our_pid)" && answers; then
    echo "running on $url (pid $pid)"
  elif pid="$(our_pid)"; then
    echo "pid $pid is alive but not answering on $url"; return 3
  else
    echo "not running on port $port"; return 3
  fi
}

reset() {
  if ! { our_pid >/dev/null && answers; }; then die "not running on port $port (start it first)"; fi
  api reset "$url"
  say "all data on $url dropped"
}

case "${1:-}" in
  start | stop | status | reset) "$1" ;;
  *) echo "usage: $0 start|stop|status|reset   (port: DYNAMODB_PORT, default 8000)" >&2; exit 2 ;;
esac
