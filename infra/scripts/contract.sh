#!/usr/bin/env bash
# `make contract` (and the last step of `make test`): Schemathesis sends
# generated requests to the running API and checks every answer against
# openapi.yaml. What it runs (seed, phases, checks, credentials, per
# operation exclusions) is in schemathesis.toml; the hooks it needs in
# infra/scripts/contract_hooks.py.
#
# It starts its own `make run` stack (stack.sh) on its own ports (DynamoDB
# 8006, API 9006; CONTRACT_DYNAMODB_PORT, CONTRACT_API_PORT), seeds it,
# creates the PAT that rotations start from, runs Schemathesis and stops
# what it started. Reports: target/schemathesis/ (JUnit, NDJSON, the console
# output in run.txt, test cases per operation in summary.txt).
#
# The account-session operations (tokens, teams, projects, API keys) run as
# the demo account, the seeded team's owner (CONTRACT_ACCOUNT_JWT); a
# second account of the local Cognito (CONTRACT_INVITER_JWT) invites the
# demo account, and joins the seeded team, where the hooks need it.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
scripts="$root/infra/scripts"
out="$root/target/schemathesis"

export DYNAMODB_PORT="${CONTRACT_DYNAMODB_PORT:-8006}"
export API_PORT="${CONTRACT_API_PORT:-9006}"
export DEMO_ENV="$root/.local/contract/demo.env"
# An edit made during the run must not restart a function mid-request.
export WATCH_FLAGS="--ignore-changes"


for n in "$DYNAMODB_PORT" "$API_PORT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "ports must be numbers, got: $n"
done

"$scripts/bootstrap.sh"
rm -rf "$out"
mkdir -p "$out"

stack_log="$out/stack.log"
# shellcheck source=SCRIPTDIR/stack.sh
. "$scripts/stack.sh"
stack_start
# shellcheck source=/dev/null
. "$DEMO_ENV"
# The first request to a function starts it under `cargo lambda watch`.
versions_serve() {
  [[ "$(stack_status -H "Authorization: Bearer $APP_UPGRADE_READ_TOKEN" \
    "$APP_UPGRADE_URL/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID")" == 200 ]]
}
stack_wait "the versions function" versions_serve

# The PATs belong to a second member of the seeded team, not to the account
# whose session the account routes use: "revoke all" (DELETE
# /api/v1/account/tokens) then cannot take the version operations' token
# with it.
admin="${CARGO_TARGET_DIR:-$root/target}/debug/aau-admin"
pat_owner="contract-ci"
export CONTRACT_PAT_OWNER="$pat_owner"
"$admin" member add --team "$APP_UPGRADE_TEAM_ID" --user "$pat_owner" >/dev/null ||
  die "could not add the PATs' owner to the team"
new_pat() {
  "$admin" token create --user "$pat_owner" --name "$1" --scopes "$2" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
pat="$(new_pat "contract versions" versions:read,versions:write)" ||
  die "could not create the versions token"
rotation="$(new_pat "contract rotation" versions:read)" ||
  die "could not create the rotation token"
export CONTRACT_URL="$APP_UPGRADE_URL" CONTRACT_PAT="$pat" CONTRACT_ROTATE_TOKEN="$rotation"
# An account session from the local Cognito, the way the page signs in.
account_jwt="$(APP_UPGRADE_USERNAME="$APP_UPGRADE_USERNAME" APP_UPGRADE_PASSWORD="$APP_UPGRADE_PASSWORD" \
  "$root/.venv/bin/python" "$scripts/local_cognito.py" signin "$COGNITO_ENDPOINT" "$COGNITO_CLIENT_ID")" ||
  die "could not sign in to the local Cognito"
export CONTRACT_ACCOUNT_JWT="$account_jwt"
teams_serve() {
  [[ "$(stack_status -H "Authorization: Bearer $account_jwt" "$APP_UPGRADE_URL/api/v1/teams")" == 200 ]]
}
stack_wait "the teams function" teams_serve
# The second account: the inviter of the invitations the demo account
# accepts, and the member whose role changes and who is removed.
export CONTRACT_INVITER_EMAIL="contract-inviter@example.com"
CONTRACT_INVITER_JWT="$("$root/.venv/bin/python" "$scripts/local_cognito.py" user "$COGNITO_ENDPOINT" \
  "$COGNITO_USER_POOL_ID" "$COGNITO_CLIENT_ID" "$CONTRACT_INVITER_EMAIL")" ||
  die "could not make the second local Cognito account"
export CONTRACT_INVITER_JWT
# Invitations waiting for the demo account, so that the stateful link
# "pending invitations → accept" has some to accept.
as_inviter() {
  curl -sS --fail-with-body --max-time 60 -H "Authorization: Bearer $CONTRACT_INVITER_JWT" \
    -H 'Content-Type: application/json' "$@"
}
for n in 1 2 3; do
  other="$(as_inviter -d "{\"name\": \"contract pending $n\"}" "$APP_UPGRADE_URL/api/v1/teams" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')" ||
    die "the second account could not create a team"
  as_inviter -d "{\"email\": \"$APP_UPGRADE_USERNAME\"}" "$APP_UPGRADE_URL/api/v1/teams/$other/invitations" >/dev/null ||
    die "the second account could not invite the demo account"
done

say "schemathesis run openapi.yaml against $CONTRACT_URL (schemathesis.toml)"
started=$SECONDS
status=0
"$root/.venv/bin/schemathesis" run openapi.yaml 2>&1 | tee "$out/run.txt" || status=$?
# A second stateful pass over the versions operations alone. In one pass,
# Schemathesis 4 starts its scenarios only from the roots it ranks most
# likely to succeed: the token create, whose links (create → revoke) then
# take the whole stateful budget, and the version links (create → read,
# update, delete) are never followed.
say "schemathesis run openapi.yaml --phases stateful --include-tag versions"
"$root/.venv/bin/schemathesis" run openapi.yaml --phases stateful --include-tag versions 2>&1 |
  tee "$out/run-stateful-versions.txt" || status=$?
# The same for the teams function's links (team → project → API key →
# revoke, team → invitation → withdraw, invitations → accept).
say "schemathesis run openapi.yaml --phases stateful --include-tag teams --include-tag projects"
"$root/.venv/bin/schemathesis" run openapi.yaml --phases stateful --include-tag teams --include-tag projects 2>&1 |
  tee "$out/run-stateful-teams.txt" || status=$?

# Test cases and answers per operation, from the NDJSON report.
python3 - "$out" <<'PY' | tee "$out/summary.txt"
import collections, glob, json, sys
out = sys.argv[1]
cases = collections.Counter()
statuses = collections.defaultdict(collections.Counter)
for path in glob.glob(f"{out}/ndjson-*.ndjson"):
    for line in open(path):
        finished = json.loads(line).get("ScenarioFinished")
        if not finished:
            continue
        recorder = finished["recorder"]
        for case_id, interaction in (recorder.get("interactions") or {}).items():
            case = recorder["cases"].get(case_id, {}).get("value", {})
            operation = f"{case.get('method')} {case.get('path')}"
            cases[operation] += 1
            status = (interaction.get("response") or {}).get("status_code", "no response")
            statuses[operation][str(status)] += 1
print(f"{'requests':>8}  operation and statuses")
for operation in sorted(cases, key=lambda o: (o.split()[1], o)):
    answers = ", ".join(f"{s}: {n}" for s, n in sorted(statuses[operation].items()))
    print(f"{cases[operation]:>8}  {operation}  ({answers})")
PY
say "Schemathesis took $((SECONDS - started)) s; reports in ${out#"$root"/}/"
exit "$status"
