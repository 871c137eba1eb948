#!/usr/bin/env bash
# Release builds of the Lambda functions for arm64 (Graviton), one per
# package in functions/: target/lambda/<name>/bootstrap, the CodeUri folders
# of template.yaml. cargo-lambda (from .venv, with zig) cross-links; plain
# cargo cannot link aarch64 here.
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"
# Above this a bootstrap is a sign of a dependency gone wrong (`make bench`
# reports their sizes); Lambda itself would take up to 50 MB zipped.
max_bytes=8000000
target=aarch64-unknown-linux-gnu

infra/scripts/bootstrap.sh
export PATH="$root/.venv/bin:$PATH"
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi

functions=()
for dir in functions/*/; do
  functions+=("$(basename "$dir")")
done

start=$SECONDS
cargo lambda build --release --arm64 "${functions[@]/#/--package=}"
elapsed=$((SECONDS - start))

status=0
for name in "${functions[@]}"; do
  bin="target/lambda/$name/bootstrap"
  size=$(stat -c %s "$bin")
  printf 'build: %-40s %9d bytes\n' "$bin" "$size"
  if ((size > max_bytes)); then
    say "$bin is larger than $max_bytes bytes"
    status=1
  fi
done
# The JWT check `make run` uses stands in for API Gateway's authorizer; it
# must not ship (shared/src/auth/local_jwt.rs refuses release builds,
# this checks the artifact too: its configuration names are in no other code).
if grep -q -a -e ACCOUNT_JWKS -e ACCOUNT_JWT_ISSUER target/lambda/tokens/bootstrap; then
  say "target/lambda/tokens/bootstrap contains the local-jwt check"
  status=1
fi
# Likewise the local outbox of invitation emails (make run only).
if grep -q -a -e LOCAL_OUTBOX target/lambda/teams/bootstrap; then
  say "target/lambda/teams/bootstrap contains the local invitation outbox"
  status=1
fi
say "${elapsed}s"
exit "$status"
