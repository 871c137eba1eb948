#!/usr/bin/env bash
# `make run`: the whole API on http://127.0.0.1:9000 (API_PORT) against a seeded local
# DynamoDB, with hot reload. Serves in the foreground until Ctrl-C; the
# emulator keeps running afterwards (with its data), so the next run starts
# fast and reuses .local/demo.env. `make emulator-stop` stops it.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
scripts="$root/infra/scripts"
api_port="${API_PORT:-9000}"

# cargo lambda watch exits quietly (status 0) when its port is taken.
if (exec 3<>"/dev/tcp/127.0.0.1/$api_port") 2>/dev/null; then
  say "error: port $api_port is already in use (another \`make run\`?):"
  ss -ltnpH "sport = :$api_port" >&2 2>/dev/null || true
  exit 1
fi

"$scripts/bootstrap.sh"
# shellcheck source=SCRIPTDIR/local-env.sh
. "$scripts/local-env.sh"
"$scripts/emulator.sh" start
# Build the functions and the seeding CLI now: otherwise the first request
# through `cargo lambda watch` waits for a whole build. (watch runs
# `cargo run --bin NAME`, which reuses these artifacts.) local-jwt: with no
# API Gateway in front, the account routes check JWTs themselves
# (shared/src/auth/local_jwt.rs), and invitation emails go to a local outbox.
features=tokens/local-jwt,teams/local-jwt
cargo build --bins -p check -p versions -p tokens -p teams -p aau-admin --features "$features"
API_PORT="$api_port" "$scripts/seed.sh"

# The page's sign-in (the emulator's Cognito), and the account sessions' issuer,
# audience and key set (shared/src/auth/jwt.rs) for every function.
demo_env="${DEMO_ENV:-$root/.local/demo.env}"
# One variable of the seed's credentials file (the rest stay out of the functions' environment).
demo_var() { (. "$demo_env" && printf '%s' "${!1}"); }
COGNITO_ENDPOINT="$(demo_var COGNITO_ENDPOINT)"
COGNITO_CLIENT_ID="$(demo_var COGNITO_CLIENT_ID)"
ACCOUNT_JWT_ISSUER="$(demo_var COGNITO_ISSUER)"
ACCOUNT_JWT_AUDIENCE="$COGNITO_CLIENT_ID"
COGNITO_USER_POOL_ID="$(demo_var COGNITO_USER_POOL_ID)"
ACCOUNT_JWKS_URL="$COGNITO_ENDPOINT/$COGNITO_USER_POOL_ID/.well-known/jwks.json"
# What AWS would email (an invitation's temporary password) is written here
# instead, one file per email: the emulator sends no email.
LOCAL_OUTBOX="$(dirname "$demo_env")/outbox"
LOCAL_SIGN_IN_URL="http://127.0.0.1:$api_port/"
export COGNITO_ENDPOINT COGNITO_CLIENT_ID ACCOUNT_JWT_ISSUER ACCOUNT_JWT_AUDIENCE ACCOUNT_JWKS_URL \
  COGNITO_USER_POOL_ID LOCAL_OUTBOX LOCAL_SIGN_IN_URL

printf '\nApp Upgrade API: http://127.0.0.1:%s   DynamoDB and Cognito emulator: %s\n' "$api_port" "$AWS_ENDPOINT_URL_DYNAMODB"
printf '\nInvitation emails (local only): %s/\n' "$LOCAL_OUTBOX"
printf '\nAccess Tokens page: %s\n  sign in as %s with password %s\n' \
  "$(demo_var APP_UPGRADE_PAGE_URL)" "$(demo_var APP_UPGRADE_USERNAME)" "$(demo_var APP_UPGRADE_PASSWORD)"
cat <<'TXT'

In another terminal:

  source .local/demo.env

  # create a version (PAT, versions:write)
  curl -sS -X POST "$APP_UPGRADE_URL/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID" \
    -H "Authorization: Bearer $APP_UPGRADE_TOKEN" -H 'Content-Type: application/json' \
    -d '{"project": "'"$APP_UPGRADE_PROJECT_ID"'", "appName": "Demo App", "appVersion": "1.0.0",
         "platform": "android", "environment": "production", "forceUpgrade": true,
         "message": "Please update to the latest version."}'

  # list versions (PAT, versions:read; $APP_UPGRADE_READ_TOKEN works too)
  curl -sS "$APP_UPGRADE_URL/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID" \
    -H "Authorization: Bearer $APP_UPGRADE_TOKEN"

  # what an app sees at launch (project API key)
  curl -sS "$APP_UPGRADE_URL/api/v1/versions/check?app_name=Demo+App&app_version=1.0.0&platform=android&environment=production" \
    -H "x-api-key: $APP_UPGRADE_API_KEY"

Ctrl-C stops the API; the emulator keeps running with its data (make emulator-stop).

TXT

# The functions inherit this process's environment (AWS_ENDPOINT_URL_DYNAMODB,
# table names, dummy credentials); routes come from the root Cargo.toml's
# [workspace.metadata.lambda.watch.router], and `disable_cors = true` there
# keeps web pages from driving this endpoint (infra/scripts/no-cors.sh).
# WATCH_FLAGS: more `cargo lambda watch` flags, e.g. --ignore-changes (the
# load test's: an edit mid-run must not restart the functions under load).
# shellcheck disable=SC2086 # word splitting wanted
exec cargo lambda watch --features "$features" --invoke-address 127.0.0.1 --invoke-port "$api_port" ${WATCH_FLAGS:-}
