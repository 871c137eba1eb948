#!/usr/bin/env bash
# `make bench`: every performance figure of the project, measured in this
# run, printed as one table and written to target/bench/results.json.
#
#   infra/scripts/bench.sh
#
# Pieces (each leaves its JSON in target/bench/, or <piece>.skipped with
# the reason; figures from earlier runs are deleted first):
#   runtime        start-up vs a hello-world lambda_runtime binary (local
#                  Runtime API, BENCH_STARTS starts each), peak RSS under
#                  BENCH_REQUESTS invocations, the check's DynamoDB calls
#                  (infra/bench, `aau-bench runtime`)
#   check          callgrind instructions of a warm check vs hello-world
#                  lambda_http (infra/scripts/bench-check.sh)
#   versions_list  page 1 of a 10,000-version project vs the raw Query
#                  (`aau-bench list`, infra/bench/src/list.rs, ~5 min)
#   bootstrap      arm64 release bootstrap sizes (infra/scripts/build.sh)
#
# BENCH_SKIP=check,versions_list,bootstrap skips pieces (comma list).
# Its own DynamoDB emulator on BENCH_DYNAMODB_PORT (default 8003), stopped
# on exit; nothing else's data is touched.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
out="$root/target/bench"
skip=",${BENCH_SKIP:-},"
export DYNAMODB_PORT="${BENCH_DYNAMODB_PORT:-8003}"
started=$SECONDS
status=0

skipped() { say "$1: not measured: $2"; printf '%s\n' "$2" >"$out/$1.skipped"; }
wanted() { [[ "$skip" != *",$1,"* ]] || { skipped "$1" "skipped by BENCH_SKIP"; return 1; }; }
# Runs one piece; a failure is recorded and the other pieces still run.
piece() {
  local name="$1"; shift
  wanted "$name" || return 0
  say "== $name: $*"
  local t=$SECONDS rc=0
  # Inside `||`, errexit is off: the piece functions check each step.
  "$@" || rc=$?
  if ((rc == 0)); then
    say "$name: done in $((SECONDS - t)) s"
  else
    status=1
    rm -f "$out/$name.json"
    skipped "$name" "failed (exit $rc) after $((SECONDS - t)) s, see the output above"
  fi
}

mkdir -p "$out"
rm -f "$out"/{runtime,check,versions_list,bootstrap,results}.json "$out"/*.skipped

infra/scripts/bootstrap.sh
trap 'infra/scripts/emulator.sh stop' EXIT
infra/scripts/emulator.sh start
# shellcheck source=infra/scripts/local-env.sh
. infra/scripts/local-env.sh

# Functions and bench binaries in separate invocations, so the bench crate
# can never change the features the functions are built with.
say "building release binaries"
cargo build --release -p check -p versions -p tokens
cargo build --release -p aau-bench

piece runtime target/release/aau-bench runtime

# The piece functions run through "$@" in piece().
# shellcheck disable=SC2317
check_bench() {
  command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; return 1; }
  local json
  json="$(infra/scripts/bench-check.sh)" || return 1
  printf '%s\n' "$json" >"$out/check.json"
}
piece check check_bench

# Writes target/bench/versions_list.json itself.
piece versions_list target/release/aau-bench list 10000 5

# shellcheck disable=SC2317
bootstrap_sizes() {
  infra/scripts/build.sh || return 1
  local name size sep='' json='{'
  for name in check versions tokens; do
    size="$(stat -c %s "target/lambda/$name/bootstrap")" || return 1
    json+="$sep\"$name\": $size"
    sep=', '
  done
  printf '%s}\n' "$json" >"$out/bootstrap.json"
}
piece bootstrap bootstrap_sizes

target/release/aau-bench report
say "make bench took $((SECONDS - started)) s"
exit "$status"
