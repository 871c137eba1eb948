#!/usr/bin/env bash
# The dashboard in a real browser: Debian's headless Chromium, driven through
# chromedriver by Selenium, against a private `make run` stack
# (infra/scripts/stack.sh) on its own ports (DynamoDB+Cognito 8004, API 9004;
# BROWSER_TEST_DYNAMODB_PORT, BROWSER_TEST_API_PORT), so a running
# `make run` and the test emulator are left alone. Two journeys:
# tests/browser/tokens_page.py (Access Tokens) and tests/browser/dashboard.py
# (a team's whole job, two browser sessions, axe-core on every page). First
# checks that the stack grants no CORS to a foreign origin
# (infra/scripts/no-cors.sh): the dashboard works without any.
#
# Screenshots go to target/browser-test/screenshots/ (never into the source
# tree); `make screenshots` copies the README's into docs/.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
scripts="$root/infra/scripts"
out="$root/target/browser-test"

export DYNAMODB_PORT="${BROWSER_TEST_DYNAMODB_PORT:-8004}"
export API_PORT="${BROWSER_TEST_API_PORT:-9004}"
export DEMO_ENV="$root/.local/browser-test/demo.env"
stack_log="$out/stack.log"

# shellcheck source=SCRIPTDIR/stack.sh
. "$scripts/stack.sh"

"$scripts/bootstrap.sh" --apt chromium chromium-driver
"$scripts/bootstrap.sh"
# axe-core, pinned by infra/browser-tools/package-lock.json, from the npm
# registry (with the machine's npm); reinstalled when the lock changes.
tools="${BROWSER_TOOLS_DIR:-$root/.venv/browser-tools}"
if ! cmp -s "$root/infra/browser-tools/package-lock.json" "$tools/package-lock.json" ||
  [[ ! -f "$tools/node_modules/axe-core/axe.min.js" ]]; then
  say "installing axe-core (npm ci) into $tools"
  rm -rf "$tools" && mkdir -p "$tools"
  cp "$root/infra/browser-tools/package.json" "$root/infra/browser-tools/package-lock.json" "$tools/"
  npm ci --prefix "$tools" --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null ||
    die "npm ci of infra/browser-tools failed (the machine's npm, the npm registry)"
fi
mkdir -p "$out"
# The check's cache TTL, short, so that the journey sees a switched-off
# force upgrade reach the check within seconds (default 30).
export CHECK_CACHE_TTL_SECONDS="${CHECK_CACHE_TTL_SECONDS:-5}"
# The page offers sign-up (the emulator's pool takes it; see dashboard.py).
export COGNITO_SIGN_UP=true
start=$SECONDS
stack_start
# shellcheck source=/dev/null
. "$DEMO_ENV"
# The first request to a function starts it under `cargo lambda watch`.
tokens_serve() { [[ "$(stack_status "$APP_UPGRADE_PAGE_URL")" == 200 ]]; }
versions_serve() {
  [[ "$(stack_status -H "Authorization: Bearer $APP_UPGRADE_READ_TOKEN" \
    "$APP_UPGRADE_URL/api/v1/projects/$APP_UPGRADE_PROJECT_ID/versions?teamId=$APP_UPGRADE_TEAM_ID")" == 200 ]]
}
stack_wait "the tokens function" tokens_serve
stack_wait "the versions function" versions_serve
say "the stack serves $APP_UPGRADE_URL ($((SECONDS - start)) s)"

"$scripts/no-cors.sh" "$APP_UPGRADE_URL"

journeys=$SECONDS
"$root/.venv/bin/python" "$root/tests/browser/tokens_page.py" \
  --screenshot "$out/screenshots/access-tokens.png" --artifacts "$out" \
  --axe "$tools/node_modules/axe-core/axe.min.js"
# The Access Tokens journey revoked every token of the demo account; the
# dashboard journey needs none.
"$root/.venv/bin/python" "$root/tests/browser/dashboard.py" \
  --artifacts "$out" --axe "$tools/node_modules/axe-core/axe.min.js"
say "done in $((SECONDS - start)) s (the journeys: $((SECONDS - journeys)) s)"
