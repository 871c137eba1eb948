#!/usr/bin/env bash
# Release builds of the Lambda functions for arm64 (Graviton), one per
# package in functions/: target/lambda/<name>/bootstrap, the CodeUri folders
# of template.yaml. cargo-lambda (from .venv, with zig) cross-links; plain
# cargo cannot link aarch64 here.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
# Above this a bootstrap is a sign of a dependency gone wrong (all three
# measure ~2-4 MB); Lambda itself would take up to 50 MB zipped.
max_bytes=$((8 * 1024 * 1024))
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

# The release profile at opt-level "s" for the deployed binaries only: the
# functions wait on DynamoDB, not on the CPU, and at opt-level 3 the bootstraps
# are ~8.2 MB (the AWS SDK's generated code dominates). Benchmarks and local
# release builds keep the profile's opt-level; the aarch64 target has its own
# folder under target/, so the two never invalidate each other.
export CARGO_PROFILE_RELEASE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_OPT_LEVEL:-s}"
start=$SECONDS
cargo lambda build --release --arm64 "${functions[@]/#/--package=}"
elapsed=$((SECONDS - start))

status=0
for name in "${functions[@]}"; do
  bin="target/lambda/$name/bootstrap"
  size=$(stat -c %s "$bin")
  printf 'build: %-40s %6d KiB\n' "$bin" $((size / 1024))
  if ((size > max_bytes)); then
    echo "build: $bin is larger than $((max_bytes / 1024 / 1024)) MiB" >&2
    status=1
  fi
done
echo "build: ${elapsed}s"
exit "$status"
