#!/usr/bin/env bash
# Lints the CloudFormation templates: cfn-lint (from .venv), then
# `sam validate --lint` (SAM's own transform, installed on demand by sam.sh).
# Neither talks to AWS: sam gets dummy credentials so that it never can.
#
#   lint.sh             cfn-lint and sam validate --lint
#   lint.sh --cfn-lint  cfn-lint only (what `make test` runs; no SAM CLI needed)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
templates=(template.yaml infra/cloudfront.yaml)

infra/scripts/bootstrap.sh
echo "cfn-lint ${templates[*]}"
.venv/bin/cfn-lint "${templates[@]}"

if [[ "${1:-}" != "--cfn-lint" ]]; then
  echo "sam validate --lint --template-file template.yaml"
  env -u AWS_PROFILE -u AWS_SESSION_TOKEN \
    AWS_ACCESS_KEY_ID=lint AWS_SECRET_ACCESS_KEY=lint \
    AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_REGION:-us-east-1}" \
    AWS_EC2_METADATA_DISABLED=true \
    infra/scripts/sam.sh validate --lint --template-file template.yaml
fi
