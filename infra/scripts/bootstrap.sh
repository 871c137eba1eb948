#!/usr/bin/env bash
# Installs the developer tools into a project-local virtualenv (.venv) so a
# fresh clone (or CI) needs only Rust and python3. Idempotent: the pip step
# re-runs only when infra/requirements.txt (or the python) changes.
#
#   bootstrap.sh            venv + pinned Python tools (moto, cargo-lambda, cfn-lint, selenium)
#   bootstrap.sh --test     also rustfmt/clippy components and cargo-nextest
#   bootstrap.sh --apt PKG… only the Debian packages not yet installed, with
#                           apt-get (as root, or with passwordless sudo; no stdin)
set -euo pipefail

# shellcheck source=SCRIPTDIR/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ "${1:-}" == "--apt" ]]; then
  shift
  missing=()
  for package in "$@"; do
    dpkg-query -W -f '${Status}' "$package" 2>/dev/null | grep -q 'ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || exit 0
  say "installing ${missing[*]} (apt-get)"
  sudo=()
  (($(id -u) == 0)) || sudo=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 </dev/null ||
    { "${sudo[@]}" apt-get update -q >/dev/null && "${sudo[@]}" apt-get install -y -q "${missing[@]}" >/dev/null; } </dev/null ||
    die "could not install ${missing[*]}; install them (apt-get install ${missing[*]}) and retry"
  exit 0
fi

pinned_venv "$root/.venv" "$root/infra/requirements.txt"

if [[ "${1:-}" == "--test" ]]; then
  # rustup profiles "minimal" lack these; adding an installed component is a no-op.
  for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
      say "adding rustup component $c"
      rustup component add "$c"
    fi
  done
  if ! cargo nextest --version >/dev/null 2>&1; then
    say "cargo-nextest missing: cargo install cargo-nextest --locked (a few minutes, once)"
    cargo install cargo-nextest --locked --quiet
  fi
fi
