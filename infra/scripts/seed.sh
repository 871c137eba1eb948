#!/usr/bin/env bash
# Seeds the local emulator with a demo account (in the emulator's Cognito
# user pool, infra/scripts/local_cognito.py), its team, project, API key and
# two PATs through aau-admin, and writes the credentials to .local/demo.env as
# `export KEY=value` lines (bash `source`, python-dotenv and dotenvy read them).
#
# The emulator keeps everything in memory, so the seed is reused only while
# the same emulator process (same pid, recorded in .local/demo.stamp) still
# holds the data; a restarted or reset emulator gets a fresh seed.
#   seed.sh [--fresh]     --fresh: drop all emulator data and seed again
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=SCRIPTDIR/local-env.sh
. "$root/infra/scripts/local-env.sh"

state="$root/.local"
# DEMO_ENV: another file, so a second stack (the load test's) leaves the
# developer's demo credentials alone.
demo_env="${DEMO_ENV:-$state/demo.env}"
stamp_file="${demo_env%.env}.stamp"
admin="${AAU_ADMIN:-${CARGO_TARGET_DIR:-$root/target}/debug/aau-admin}"
emulator="$root/infra/scripts/emulator.sh"


"$emulator" status >/dev/null || die "no emulator on port $DYNAMODB_PORT; run: make emulator-start"
emulator_pid="$(cat "$state/moto-$DYNAMODB_PORT.pid")"
stamp="port=$DYNAMODB_PORT pid=$emulator_pid tables=$VERSIONS_TABLE,$TOKENS_TABLE cognito=1"

# Items in a table, or -1 if the table does not exist (schema-agnostic on purpose).
item_count() { python3 "$root/infra/scripts/moto_api.py" count "$AWS_ENDPOINT_URL_DYNAMODB" "$1"; }

if [[ "${1:-}" != "--fresh" && -f "$demo_env" && "$(cat "$stamp_file" 2>/dev/null)" == "$stamp" ]] &&
  (($(item_count "$VERSIONS_TABLE") > 0 && $(item_count "$TOKENS_TABLE") > 0)); then
  say "emulator still holds the demo data; reusing $demo_env"
  exit 0
fi

# Token names are unique per owner, so a second seed into the same data would
# conflict: start from empty tables when anything is left over.
if [[ "${1:-}" == "--fresh" ]] || (($(item_count "$VERSIONS_TABLE") > 0 || $(item_count "$TOKENS_TABLE") > 0)); then
  say "dropping leftover emulator data on port $DYNAMODB_PORT before seeding"
  "$emulator" reset
fi
rm -f "$stamp_file" "$demo_env"

[[ -x "$admin" ]] || die "$admin not built; run: cargo build --bin aau-admin"

# One field of a JSON object, if it is a plain string (ids, URLs, passwords).
json_field() {
  python3 -c '
import json, re, sys
value = json.loads(sys.argv[1])[sys.argv[2]]
if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_.:/@-]+", value):
    sys.exit(f"unexpected {sys.argv[2]!r}: {value!r}")
print(value)' "$1" "$2"
}

# Runs aau-admin and prints one field of the JSON object it writes to stdout.
admin_field() {
  local field="$1" out
  shift
  out="$("$admin" "$@")" || die "aau-admin $* failed"
  json_field "$out" "$field" || die "could not read \"$field\" from: aau-admin $1 $2"
}

# The demo account signs in to the Access Tokens page; its Cognito `sub` is
# the user id the team membership and the PATs belong to.
cognito_url="http://127.0.0.1:$DYNAMODB_PORT/"
say "creating the local Cognito user pool and demo account on $cognito_url"
cognito="$("$root/.venv/bin/python" "$root/infra/scripts/local_cognito.py" setup "$cognito_url")" ||
  die "local Cognito set-up failed"
for field in userPoolId clientId issuer username password sub; do
  value="$(json_field "$cognito" "$field")" || die "no \"$field\" from local_cognito.py"
  printf -v "cognito_$field" '%s' "$value"
done
user="$cognito_sub"
say "seeding tables $VERSIONS_TABLE, $TOKENS_TABLE on $AWS_ENDPOINT_URL_DYNAMODB"
"$admin" tables create >/dev/null || die "aau-admin tables create failed"
# The demo account owns the demo team, as `aau-admin owner create` makes a
# deployment's first owner.
team="$(admin_field teamId owner create --email "$cognito_username" --team-name "Demo Team" --user-pool-id "$cognito_userPoolId")"
project="$(admin_field projectId project create --team "$team" --name "Demo Project")"
api_key="$(admin_field apiKey api-key create --project "$project" --name "demo app")"
rw_token="$(admin_field token token create --user "$user" --name "demo read-write" --scopes versions:read,versions:write)"
ro_token="$(admin_field token token create --user "$user" --name "demo read-only" --scopes versions:read)"

mkdir -p "$state"
tmp="$(mktemp "$demo_env.XXXXXX")"   # mktemp creates it with mode 600
cat >"$tmp" <<ENV
# Written by infra/scripts/seed.sh: demo credentials for the local stack only.
# Load into a shell with:  source .local/demo.env
export APP_UPGRADE_URL=http://127.0.0.1:${API_PORT:-9000}
export APP_UPGRADE_PAGE_URL=http://127.0.0.1:${API_PORT:-9000}/account/tokens
export APP_UPGRADE_USERNAME=$cognito_username
export APP_UPGRADE_PASSWORD=$cognito_password
export APP_UPGRADE_TOKEN=$rw_token
export APP_UPGRADE_READ_TOKEN=$ro_token
export APP_UPGRADE_TEAM_ID=$team
export APP_UPGRADE_PROJECT_ID=$project
export APP_UPGRADE_API_KEY=$api_key
export APP_UPGRADE_USER_ID=$user
export DYNAMODB_PORT=$DYNAMODB_PORT
export AWS_ENDPOINT_URL_DYNAMODB=$AWS_ENDPOINT_URL_DYNAMODB
export AWS_REGION=$AWS_REGION
export AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID
export AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export AWS_EC2_METADATA_DISABLED=true
export VERSIONS_TABLE=$VERSIONS_TABLE
export TOKENS_TABLE=$TOKENS_TABLE
export COGNITO_ENDPOINT=$cognito_url
export COGNITO_USER_POOL_ID=$cognito_userPoolId
export COGNITO_CLIENT_ID=$cognito_clientId
export COGNITO_ISSUER=$cognito_issuer
ENV
chmod 600 "$tmp"
mv -f "$tmp" "$demo_env"
echo "$stamp" >"$stamp_file"
say "wrote $demo_env (team $team, project $project, user $user)"
