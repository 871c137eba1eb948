# shellcheck shell=bash
# Environment for every local process (functions under `cargo lambda watch`,
# aau-admin, integration tests) talking to the local DynamoDB emulator.
# Source it:   . infra/scripts/local-env.sh
# Overridable: DYNAMODB_PORT (default 8000), VERSIONS_TABLE, TOKENS_TABLE.

_aau_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

export DYNAMODB_PORT="${DYNAMODB_PORT:-8000}"
export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:${DYNAMODB_PORT}"
# The same emulator serves the user pool's API (the team function's
# invitations, aau-admin owner create).
export AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER="http://127.0.0.1:${DYNAMODB_PORT}"
export AWS_REGION=us-east-1
export AWS_DEFAULT_REGION=us-east-1
# Dummy credentials: moto accepts any. Never let a developer's real session
# token or profile leak into local runs.
export AWS_ACCESS_KEY_ID=local
export AWS_SECRET_ACCESS_KEY=local
unset AWS_SESSION_TOKEN AWS_PROFILE
export AWS_EC2_METADATA_DISABLED=true
export VERSIONS_TABLE="${VERSIONS_TABLE:-app-upgrade-versions}"
export TOKENS_TABLE="${TOKENS_TABLE:-app-upgrade-tokens}"

case ":$PATH:" in
  *":$_aau_root/.venv/bin:"*) ;;
  *) export PATH="$_aau_root/.venv/bin:$PATH" ;;
esac
unset _aau_root
