#!/usr/bin/env bash
# Runs the pinned AWS SAM CLI, installing it first if needed (once, ~30 s).
# It lives in its own virtualenv, .venv/sam: aws-sam-cli pins boto3 to a
# version other than moto's, and sharing .venv would downgrade the emulator's.
#
#   sam.sh ARGS...    same as `sam ARGS...`
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv/sam"
req="$root/infra/requirements-sam.txt"
stamp="$venv/.requirements.stamp"
python="${PYTHON:-python3}"

if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi

want="$(cat "$req" <("$venv/bin/python" -VV) | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  printf 'sam: installing %s into .venv/sam (quietly)\n' "$(grep -E '^[a-z]' "$req")" >&2
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$req" </dev/null
  echo "$want" >"$stamp"
fi

export SAM_CLI_TELEMETRY=0
exec "$venv/bin/sam" "$@"
