#!/usr/bin/env bash
# `make loadtest`: the whole API under load through `make run` (run.sh:
# emulator, build, seed, `cargo lambda watch`), driven by wrk on 127.0.0.1,
# then the stored versions counted against what the load claims to have
# written.
#
#   1. seed      a handful of versions through the API (curl), a range rule
#                and custom attributes among them, before the first check:
#                the check caches whole projects for CHECK_CACHE_TTL_SECONDS,
#                so a check of the project before the seed would answer from
#                the empty project for that long
#   2. checks    LOADTEST_CHECKS (default 6,000) version checks, 8 connections;
#                every answer a 200 with the `found` the seeded data implies
#   3. manage    LOADTEST_MANAGE (default 600) mixed management requests
#                (infra/load/manage.lua), 4 connections: creates, racing
#                and duplicate creates, gets, lists, patches, deletes, each
#                with its expected status
#   4. fresh     the README's promise: a change reaches checks within the
#                cache's TTL. The seeded inactive version is activated, and
#                the check must find it within CHECK_CACHE_TTL_SECONDS
#                (LOADTEST_CHECK_TTL_SECONDS, default 10) plus 2 s
#   5. verify    list the project through the API: versions = before +
#                seeded + 201s - 204s, exactly the ids created and not
#                deleted, no identity twice; zero 5xx in every phase
#
# It starts its own stack on its own ports (DynamoDB 8002, API 9002;
# LOADTEST_DYNAMODB_PORT, LOADTEST_API_PORT) with its own credentials file
# (.local/loadtest/demo.env), so a running `make run` and the test emulator
# are left alone, and stops what it started. Bounded: a fixed number of
# requests per wrk thread, at most LOADTEST_MAX_SECONDS (default 300) per
# phase. Figures and results: target/loadtest/.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
scripts="$root/infra/scripts"
load="$root/infra/load"
out="$root/target/loadtest"
state="$root/.local/loadtest"

export DYNAMODB_PORT="${LOADTEST_DYNAMODB_PORT:-8002}"
export API_PORT="${LOADTEST_API_PORT:-9002}"
export DEMO_ENV="$state/demo.env"
checks="${LOADTEST_CHECKS:-6000}"
manage="${LOADTEST_MANAGE:-600}"
max_seconds="${LOADTEST_MAX_SECONDS:-300}"
# The functions of the stack inherit it (infra/scripts/run.sh).
export CHECK_CACHE_TTL_SECONDS="${LOADTEST_CHECK_TTL_SECONDS:-10}"
check_threads=2 check_connections=8
manage_threads=4 # one connection each: see infra/load/manage.lua
url="http://127.0.0.1:$API_PORT"
stack_log="$out/stack.log"

# shellcheck source=SCRIPTDIR/stack.sh
. "$scripts/stack.sh"

for n in "$checks" "$manage" "$max_seconds" "$CHECK_CACHE_TTL_SECONDS"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "counts, LOADTEST_MAX_SECONDS and LOADTEST_CHECK_TTL_SECONDS must be numbers, got: $n"
done
((checks >= check_threads && manage >= manage_threads)) || die "too few requests"

command -v wrk >/dev/null || "$scripts/bootstrap.sh" --apt wrk

mkdir -p "$out" "$state"
rm -f "$out"/*.json "$out"/*.txt

stack_start
# The first request to each function starts it under `cargo lambda watch`.
check_serves() {
  [[ "$(stack_status -H "x-api-key: $APP_UPGRADE_API_KEY" \
    "$url/api/v1/versions/check?app_name=a&app_version=1&platform=a&environment=b")" == 200 ]]
}
versions_serve() { [[ "$(stack_status -H "Authorization: Bearer $APP_UPGRADE_READ_TOKEN" "$collection")" == 200 ]]; }

# shellcheck source=/dev/null
. "$DEMO_ENV"
[[ "$APP_UPGRADE_URL" == "$url" ]] || die "$DEMO_ENV points at $APP_UPGRADE_URL, not $url"
collection="$url/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID"
# The check function is started after the seed (below), not now.
stack_wait "the versions function" versions_serve

# --- 1. seed -----------------------------------------------------------------
# Everything in the project now (a reused emulator may hold versions).
list_ids() {
  python3 - "$collection" "$APP_UPGRADE_READ_TOKEN" <<'PY'
import json, sys, urllib.request
collection, token = sys.argv[1:]
page, rows = 1, []
while True:
    request = urllib.request.Request(
        f"{collection}&limit=100&page={page}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    rows += body["results"]
    if page >= body["totalPages"]:
        break
    page += 1
assert len(rows) == body["totalResults"], (len(rows), body["totalResults"])
json.dump(rows, sys.stdout)
PY
}
list_ids >"$out/before.json"

seed() {
  local body="$1" reply
  reply="$(curl -sS --max-time 60 -w '\n%{http_code}' -X POST "$collection" \
    -H "Authorization: Bearer $APP_UPGRADE_TOKEN" -H 'Content-Type: application/json' -d "$body")"
  [[ "${reply##*$'\n'}" == 201 ]] || die "seeding failed: ${reply//$'\n'/ }"
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "${reply%$'\n'*}"
}
p="$APP_UPGRADE_PROJECT_ID"
common='"appName": "Load App", "environment": "production", "project": "'"$p"'"'
seeded_ids=(
  "$(seed '{'"$common"', "appVersion": "1.0.0", "platform": "android", "forceUpgrade": true,
      "message": "Please update.", "messageLocale": {"fr": "Mettez à jour."}}')"
  "$(seed '{'"$common"', "appVersion": ">=1.1.0, <1.5.0", "platform": "android", "forceUpgrade": false,
      "message": "An update is available.", "messageLocale": {"pt": "Atualize."}}')"
  "$(seed '{'"$common"', "appVersion": "2.0.0", "platform": "ios", "forceUpgrade": true,
      "customAttributes": {"country": ["US", "CA"]}}')"
  "$(seed '{'"$common"', "appVersion": "^2.1", "platform": "ios", "forceUpgrade": false}')"
  "$(seed '{'"$common"', "appVersion": "3.0.0", "platform": "android", "forceUpgrade": true, "active": false}')"
)
for id in "${seeded_ids[@]}"; do [[ -n "$id" ]] || die "seeding failed"; done
printf '%s\n' "${seeded_ids[@]}" >"$out/seeded.txt"
say "seeded ${#seeded_ids[@]} versions"
stack_wait "the check function" check_serves
say "the stack serves $url"

# --- 2 and 3: wrk --------------------------------------------------------------
export LOAD_DIR="$load" LOAD_SEEDED_ID="${seeded_ids[0]}"
export APP_UPGRADE_API_KEY APP_UPGRADE_TOKEN APP_UPGRADE_PROJECT_ID APP_UPGRADE_TEAM_ID
run_wrk() {
  local name="$1" script="$2" threads="$3" connections="$4" total="$5" wrk_pid finished
  say "$name: $total requests, $threads threads, $connections connections"
  LOAD_REQUESTS=$(((total + threads - 1) / threads)) LOAD_RESULT_PREFIX="$out/$name" \
    wrk --threads "$threads" --connections "$connections" --duration "${max_seconds}s" \
    --timeout 30s --latency --script "$script" "$url" >"$out/$name.txt" &
  wrk_pid=$!
  # wrk runs until --duration even when every thread has stopped; each
  # thread writes its results when done, then wrk is told to finish.
  shopt -s nullglob
  while kill -0 "$wrk_pid" 2>/dev/null; do
    finished=("$out/$name"-thread-*.json)
    ((${#finished[@]} < threads)) || break
    sleep 0.1
  done
  shopt -u nullglob
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || die "$name: wrk failed (status $?)"
  cat "$out/$name.txt"
  [[ -s "$out/$name.json" ]] || die "$name: wrk wrote no results"
}
run_wrk checks "$load/check.lua" "$check_threads" "$check_connections" "$checks"
run_wrk manage "$load/manage.lua" "$manage_threads" "$manage_threads" "$manage"

# --- 4. fresh ------------------------------------------------------------------
# The seeded inactive 3.0.0 (android), which every check so far answered
# `found: false`, is activated; the check must find it within the TTL.
inactive_id="${seeded_ids[4]}"
inactive_check="$url/api/v1/versions/check?app_name=Load+App&app_version=3.0.0&platform=android&environment=production"
found() {
  curl -sS --max-time 10 -H "x-api-key: $APP_UPGRADE_API_KEY" "$inactive_check" |
    python3 -c 'import json, sys; print(str(json.load(sys.stdin)["found"]).lower())'
}
[[ "$(found)" == false ]] || die "fresh: the inactive version was found before it was activated"
item="$url/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions/$inactive_id?teamId=$APP_UPGRADE_TEAM_ID"
# A PATCH carries the identity and forceUpgrade; omitted fields are kept.
status="$(stack_status -X PATCH "$item" -H "Authorization: Bearer $APP_UPGRADE_TOKEN" \
  -H 'Content-Type: application/json' \
  -d '{'"$common"', "appVersion": "3.0.0", "platform": "android", "forceUpgrade": true, "active": true}')"
[[ "$status" == 200 ]] || die "fresh: activating the seeded inactive version answered $status"
changed=$SECONDS bound=$((CHECK_CACHE_TTL_SECONDS + 2))
until [[ "$(found)" == true ]]; do
  ((SECONDS - changed <= bound)) ||
    die "fresh: the activated version was not found within ${bound} s (CHECK_CACHE_TTL_SECONDS=$CHECK_CACHE_TTL_SECONDS + 2)"
  sleep 0.25
done
fresh_seconds=$((SECONDS - changed))
say "fresh: the change reached the check after ~${fresh_seconds} s (TTL ${CHECK_CACHE_TTL_SECONDS} s)"
printf '{"seconds": %s, "bound": %s, "ttl": %s}\n' "$fresh_seconds" "$bound" "$CHECK_CACHE_TTL_SECONDS" >"$out/fresh.json"

# --- 5. verify -----------------------------------------------------------------
list_ids >"$out/after.json"
python3 - "$out" "$checks" "$manage" "$manage_threads" <<'PY'
import glob, json, sys
out, want_checks, want_manage, threads = sys.argv[1], *map(int, sys.argv[2:])
load = lambda name: json.load(open(f"{out}/{name}"))
as_list = lambda v: v if isinstance(v, list) else []  # Lua writes {} for an empty list

def phase(name):
    """wrk's figures and the merged results of the phase's threads."""
    result = load(f"{name}.json")
    result.update(responses=0, sent=0, unexpected=0, samples=[], counts={}, threads=0)
    for path in sorted(glob.glob(f"{out}/{name}-thread-*.json")):
        thread = json.load(open(path))
        result["threads"] += 1
        for key in ("responses", "sent", "unexpected"):
            result[key] += thread[key]
        result["samples"] += as_list(thread["samples"])
        for kind, by_status in thread["counts"].items():
            merged = result["counts"].setdefault(kind, {})
            for status, n in by_status.items():
                merged[status] = merged.get(status, 0) + n
        for key, value in thread.items():
            if key.endswith("_ids"):
                result.setdefault(key, []).extend(as_list(value))
            elif key in ("found", "not_found"):
                result[key] = result.get(key, 0) + value
    result["requests_per_second"] = result["responses"] / result["seconds"]
    return result

def statuses(result):
    total = {}
    for by_status in result["counts"].values():
        for status, n in by_status.items():
            total[status] = total.get(status, 0) + n
    return total

checks, manage = phase("checks"), phase("manage")
before, after = load("before.json"), load("after.json")
seeded = open(f"{out}/seeded.txt").read().split()
failures = []

print("\nphase     requests   req/s    p50 ms   p90 ms   p99 ms   max ms   statuses")
for name, result, want in (("checks", checks, want_checks), ("manage", manage, want_manage)):
    lat = result["latency_ms"]
    print(f"{name:<8} {result['responses']:>9} {result['requests_per_second']:>7.0f} "
          f"{lat['p50']:>8.1f} {lat['p90']:>8.1f} {lat['p99']:>8.1f} {lat['max']:>8.1f}   "
          f"{dict(sorted(statuses(result).items()))}")
    if result["responses"] < want:
        failures.append(f"{name}: {result['responses']} responses of {want} (LOADTEST_MAX_SECONDS?)")
    server_errors = sum(n for s, n in statuses(result).items() if s.startswith("5"))
    if server_errors:
        failures.append(f"{name}: {server_errors} 5xx")
    if result["unexpected"]:
        failures.append(f"{name}: {result['unexpected']} unexpected answers, e.g. {result['samples']}")
    socket = {k: v for k, v in result["socket_errors"].items() if k != "status" and v}
    if socket:
        failures.append(f"{name}: socket errors {socket}")
print(f"checks found/not found: {checks['found']}/{checks['not_found']}")
print("manage by kind:", json.dumps({k: dict(sorted(v.items())) for k, v in sorted(manage["counts"].items())}))

counts = manage["counts"]
n = lambda kind, status: counts.get(kind, {}).get(status, 0)
created = [n("create", "201"), n("race", "201")]
deleted = n("delete", "204")
# Races: per round, every thread tried one appVersion; exactly one won.
rounds = -(-sum(counts.get("race", {}).values()) // threads)
if created[1] != rounds:
    failures.append(f"race: {created[1]} creates won for {rounds} rounds (want one each)")

ids_before = {v["id"] for v in before}
ids_after = [v["id"] for v in after]
want_ids = (ids_before | set(seeded) | set(manage.get("created_ids", []))) - set(manage.get("deleted_ids", []))
expected_count = len(before) + len(seeded) + sum(created) - deleted
print(f"versions: {len(before)} before + {len(seeded)} seeded + {sum(created)} created "
      f"- {deleted} deleted = {expected_count} expected, {len(after)} stored")
if len(after) != expected_count:
    failures.append(f"stored {len(after)} versions, expected {expected_count}")
if len(set(ids_after)) != len(ids_after):
    failures.append("an id is listed twice")
if set(ids_after) != want_ids:
    failures.append(f"lost: {sorted(want_ids - set(ids_after))[:5]}, "
                    f"unexpected: {sorted(set(ids_after) - want_ids)[:5]}")
identity = lambda v: (v["appName"], v["appVersion"], v["platform"], v["environment"])
identities = [identity(v) for v in after]
if len(set(identities)) != len(identities):
    failures.append("an identity is stored twice")
json.dump({"checks": checks, "manage": manage, "fresh": load("fresh.json"), "stored": len(after),
           "expected": expected_count, "failures": failures},
          open(f"{out}/summary.json", "w"), indent=2)
if failures:
    print("\nFAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
print("\nOK: zero 5xx, every answer as expected, no write lost or duplicated")
PY
