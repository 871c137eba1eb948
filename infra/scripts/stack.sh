# shellcheck shell=bash
# A private `make run` stack for a script that drives the whole API over
# HTTP (loadtest.sh, contract.sh): run.sh (emulator, build, seed,
# `cargo lambda watch`) on the caller's own ports with its own credentials
# file, so a running `make run` and the test emulator are left alone.
#
#   export DYNAMODB_PORT API_PORT DEMO_ENV [WATCH_FLAGS]
#   . infra/scripts/stack.sh
#   stack_start LOG     start it, wait until the three functions answer,
#                       source $DEMO_ENV; what it started is stopped when
#                       the calling script exits, however it ends
#
# The caller defines `say` and `die`.

_stack_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
stack_pid=""
stack_started_emulator=false

stack_stop() {
  if [[ -n "$stack_pid" ]] && kill -0 "$stack_pid" 2>/dev/null; then
    # run.sh runs in its own session (setsid): its process group is
    # `cargo lambda watch` and the functions it spawned.
    kill -TERM -- "-$stack_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$stack_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$stack_pid" 2>/dev/null || true
  fi
  if $stack_started_emulator; then "$_stack_scripts/emulator.sh" stop 2>/dev/null || true; fi
}

stack_start() {
  local log="$1" url="http://127.0.0.1:$API_PORT"
  # Credentials of an earlier run must not be mistaken for this run's seed.
  rm -f "$DEMO_ENV" "${DEMO_ENV%.env}.stamp"
  mkdir -p "$(dirname "$DEMO_ENV")" "$(dirname "$log")"
  "$_stack_scripts/emulator.sh" status >/dev/null 2>&1 || stack_started_emulator=true
  trap stack_stop EXIT
  trap 'exit 130' INT TERM # so that the EXIT trap runs

  say "starting the make run stack (infra/scripts/run.sh) on $url, DynamoDB on :$DYNAMODB_PORT; log: $log"
  setsid "$_stack_scripts/run.sh" >"$log" 2>&1 </dev/null &
  stack_pid=$!

  # The first start builds the workspace: allow it time, but not forever.
  _stack_wait_for() {
    local what="$1" deadline=$((SECONDS + 900))
    shift
    until "$@"; do
      kill -0 "$stack_pid" 2>/dev/null || { tail -n 30 "$log" >&2; die "the stack exited while waiting for $what"; }
      ((SECONDS < deadline)) || { tail -n 30 "$log" >&2; die "timed out waiting for $what"; }
      sleep 1
    done
  }
  _stack_status() { curl -sS -o /dev/null -w '%{http_code}' --max-time 60 "$@" 2>/dev/null || true; }
  _stack_seeded() { [[ -s "$DEMO_ENV" ]]; }
  # The first request to each function starts it under `cargo lambda watch`.
  _stack_check_serves() {
    [[ "$(_stack_status -H "x-api-key: $APP_UPGRADE_API_KEY" \
      "$url/api/v1/versions/check?app_name=a&app_version=1&platform=a&environment=b")" == 200 ]]
  }
  _stack_versions_serve() {
    [[ "$(_stack_status -H "Authorization: Bearer $APP_UPGRADE_READ_TOKEN" \
      "$url/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID")" == 200 ]]
  }
  # No account session: a 401 from the function itself.
  _stack_tokens_serve() { [[ "$(_stack_status "$url/api/v1/account/tokens")" == 401 ]]; }

  _stack_wait_for "the demo credentials" _stack_seeded
  # shellcheck source=/dev/null
  . "$DEMO_ENV"
  [[ "$APP_UPGRADE_URL" == "$url" ]] || die "$DEMO_ENV points at $APP_UPGRADE_URL, not $url"
  _stack_wait_for "the check function" _stack_check_serves
  _stack_wait_for "the versions function" _stack_versions_serve
  _stack_wait_for "the tokens function" _stack_tokens_serve
  say "the stack serves $url"
}
