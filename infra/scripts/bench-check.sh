#!/usr/bin/env bash
# Benchmark of the warm version check (functions/check/examples/warm_bench.rs)
# next to a hello-world lambda_http handler, all driven the same way: an
# API Gateway v2 event in, a serialized Lambda response out.
#
#   infra/scripts/bench-check.sh         prints one JSON object
#
# Instructions per request come from callgrind: each handler runs once with
# 0 requests (start-up, seeding, one warm-up request) and once with
# BENCH_REQUESTS (default 10000) more; the difference divided by
# BENCH_REQUESTS is the steady-state cost of one warm request. Requests per
# second come from a native run of BENCH_RPS_REQUESTS (default 200000) on one
# thread (current_thread runtime). Release profile, as deployed.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
requests="${BENCH_REQUESTS:-10000}"
rps_requests="${BENCH_RPS_REQUESTS:-200000}"

command -v valgrind >/dev/null || die "valgrind is required"
cargo build --quiet --release -p check --example warm_bench
bin="$root/target/release/examples/warm_bench"

# Total instructions of one run, from callgrind's "Collected : N" line.
instructions() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" "$2" 2>&1 >/dev/null \
    | sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}

per_request() {
  local base total
  base="$(instructions "$1" 0)"
  total="$(instructions "$1" "$requests")"
  [[ -n "$base" && -n "$total" ]] || die "callgrind gave no count for $1"
  echo $(( (total - base) / requests ))
}

rps() {
  "$bin" "$1" "$rps_requests" | sed -n 's/.*"requests_per_second":\([0-9]*\).*/\1/p'
}

check_ir="$(per_request check)"
axum_ir="$(per_request hello-axum)"
fn_ir="$(per_request hello-fn)"
check_rps="$(rps check)"
axum_rps="$(rps hello-axum)"
fn_rps="$(rps hello-fn)"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

cat <<JSON
{"requests_measured": $requests,
 "instructions_per_request": {"check": $check_ir, "hello_axum": $axum_ir, "hello_lambda_http": $fn_ir},
 "ratio_check_to_hello_lambda_http": $(ratio "$check_ir" "$fn_ir"),
 "ratio_check_to_hello_axum": $(ratio "$check_ir" "$axum_ir"),
 "requests_per_second_one_core": {"check": $check_rps, "hello_axum": $axum_rps, "hello_lambda_http": $fn_rps}}
JSON
