# shellcheck shell=bash
# A private `make run` stack (infra/scripts/run.sh: emulator, build, seed,
# `cargo lambda watch`) for a script that drives the API from outside, like
# the load test and the browser test. Source it, then:
#
#   stack_start           start run.sh on $DYNAMODB_PORT/$API_PORT with its own
#                         credentials file ($DEMO_ENV) and log ($stack_log);
#                         stops what it started when the script exits
#   stack_wait WHAT CMD…  run CMD until it succeeds (the stack must stay up)
#   stack_status ARGS…    the HTTP status curl gets for ARGS (000 on failure)
#
# The caller sources lib.sh and sets DYNAMODB_PORT, API_PORT, DEMO_ENV and
# stack_log first.

stack_pid=""
stack_started_emulator=false

stack_start() {
  local scripts="$root/infra/scripts"
  for n in "$DYNAMODB_PORT" "$API_PORT"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "ports must be numbers, got: $n"
  done
  mkdir -p "$(dirname "$DEMO_ENV")" "$(dirname "$stack_log")"
  # Credentials of an earlier run must not be mistaken for this run's seed.
  rm -f "$DEMO_ENV" "${DEMO_ENV%.env}.stamp"
  "$scripts/emulator.sh" status >/dev/null 2>&1 || stack_started_emulator=true
  trap stack_stop EXIT
  trap 'exit 130' INT TERM # so that the EXIT trap runs
  say "starting the make run stack (infra/scripts/run.sh) on http://127.0.0.1:$API_PORT, DynamoDB on :$DYNAMODB_PORT; log: $stack_log"
  # Hot reload would restart a function mid-run whenever a source file changes.
  WATCH_FLAGS="${WATCH_FLAGS:---ignore-changes}" setsid "$scripts/run.sh" >"$stack_log" 2>&1 </dev/null &
  stack_pid=$!
  stack_wait "the demo credentials" test -s "$DEMO_ENV"
}

# Stop what stack_start started, however the script ends.
stack_stop() {
  if [[ -n "$stack_pid" ]] && kill -0 "$stack_pid" 2>/dev/null; then
    # run.sh runs in its own session (setsid): its process group is
    # `cargo lambda watch` and the functions it spawned.
    kill -TERM -- "-$stack_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$stack_pid" 2>/dev/null || true
  fi
  if $stack_started_emulator; then
    "$root/infra/scripts/emulator.sh" stop 2>/dev/null || true
  fi
}

# The first start builds the workspace: allow it time, but not forever.
stack_wait() {
  local what="$1" deadline=$((SECONDS + 900))
  shift
  until "$@"; do
    kill -0 "$stack_pid" 2>/dev/null || { tail -n 30 "$stack_log" >&2; die "the stack exited while waiting for $what"; }
    ((SECONDS < deadline)) || { tail -n 30 "$stack_log" >&2; die "timed out waiting for $what"; }
    sleep 1
  done
}

stack_status() { curl -sS -o /dev/null -w '%{http_code}' --max-time 60 "$@" 2>/dev/null || true; }
