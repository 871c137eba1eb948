#!/usr/bin/env bash
# Runs the pinned AWS SAM CLI, installing it first if needed (once, ~30 s).
# It lives in its own virtualenv, .venv/sam: aws-sam-cli pins boto3 to a
# version other than moto's, and sharing .venv would downgrade the emulator's.
#
#   sam.sh ARGS...    same as `sam ARGS...`
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
pinned_venv "$root/.venv/sam" "$root/infra/requirements-sam.txt"

export SAM_CLI_TELEMETRY=0
exec "$root/.venv/sam/bin/sam" "$@"
