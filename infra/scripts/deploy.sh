#!/usr/bin/env bash
# Builds the functions and deploys template.yaml with AWS SAM, using the
# caller's AWS credentials (profile, SSO or environment).
#
#   deploy.sh [SAM_ARGS...]   first time (no samconfig.toml): `sam deploy --guided`,
#                             which asks for stack name, region and parameters and
#                             saves the answers in samconfig.toml; after that
#                             `sam deploy` with the saved answers
#   deploy.sh --env [STACK]   print `export VERSIONS_TABLE=… TOKENS_TABLE=… APP_UPGRADE_…=…`
#                             (for aau-admin and smoke tests) from the stack's outputs
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
sam=infra/scripts/sam.sh

# The local-emulator settings of local-env.sh must never reach a deploy.
if [[ -n "${AWS_ENDPOINT_URL_DYNAMODB:-}" ]]; then
  say "AWS_ENDPOINT_URL_DYNAMODB is set (local-env.sh?); use a fresh shell"
  exit 1
fi

# A value `sam deploy --guided` saved in samconfig.toml (stack_name, region).
saved() {
  [[ -f samconfig.toml ]] || return 0
  sed -n "s/^$1 *= *\"\(.*\)\"/\1/p" samconfig.toml | head -1
}

if [[ "${1:-}" == "--env" ]]; then
  stack="${2:-$(saved stack_name)}"
  region="$(saved region)"
  region="${region:-${AWS_REGION:-${AWS_DEFAULT_REGION:-}}}"
  outputs="$("$sam" list stack-outputs --stack-name "${stack:-app-upgrade}" --output json \
    ${region:+--region "$region"})"
  "$root/.venv/sam/bin/python" -c '
import json, shlex, sys
outputs = {o["OutputKey"]: o["OutputValue"] for o in json.load(sys.stdin)}
for var, key in [("VERSIONS_TABLE", "VersionsTableName"), ("TOKENS_TABLE", "TokensTableName"),
                 ("APP_UPGRADE_URL", "ApiUrl"), ("APP_UPGRADE_API_DOMAIN", "ApiDomain"),
                 ("APP_UPGRADE_USER_POOL_ID", "UserPoolId"), ("COGNITO_USER_POOL_ID", "UserPoolId"),
                 ("APP_UPGRADE_USER_POOL_CLIENT_ID", "UserPoolClientId")]:
    if key in outputs:  # no user pool outputs with an external issuer
        print(f"export {var}={shlex.quote(outputs[key])}")
' <<<"$outputs"
  exit 0
fi

infra/scripts/build.sh

# template.yaml points CodeUri at target/lambda/<name>/ directly; naming it
# also keeps a stray .aws-sam/build from `sam build` from being deployed.
if [[ -f samconfig.toml ]]; then
  exec "$sam" deploy --template-file template.yaml "$@"
else
  say "no samconfig.toml yet: running sam deploy --guided (see docs/deploy.md)"
  exec "$sam" deploy --guided --template-file template.yaml --stack-name app-upgrade "$@"
fi
