#!/usr/bin/env bash
# The Access Tokens page in a real browser: Debian's headless Chromium,
# driven through chromedriver by Selenium (tests/browser/tokens_page.py),
# against a private `make run` stack (infra/scripts/stack.sh) on its own ports
# (DynamoDB+Cognito 8004, API 9004; BROWSER_TEST_DYNAMODB_PORT,
# BROWSER_TEST_API_PORT), so a running `make run` and the test emulator are
# left alone. Takes the README's screenshot, docs/access-tokens.png. First
# checks that the stack grants no CORS to a foreign origin
# (infra/scripts/no-cors.sh): the page works without any.
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
mkdir -p "$out"
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

"$root/.venv/bin/python" "$root/tests/browser/tokens_page.py" \
  --screenshot "$root/docs/access-tokens.png" --artifacts "$out"
say "done in $((SECONDS - start)) s"
