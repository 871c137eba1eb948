#!/usr/bin/env bash
# Installs the developer tools into a project-local virtualenv (.venv) so a
# fresh clone (or CI) needs only Rust and python3. Idempotent: the pip step
# re-runs only when infra/requirements.txt (or the python) changes.
#
#   bootstrap.sh            venv + pinned Python tools (moto, cargo-lambda, cfn-lint)
#   bootstrap.sh --test     also rustfmt/clippy components and cargo-nextest
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="$root/.venv"
req="$root/infra/requirements.txt"
stamp="$venv/.requirements.stamp"
python="${PYTHON:-python3}"

log() { printf 'bootstrap: %s\n' "$*" >&2; }

# A venv whose interpreter no longer runs (python upgraded or removed) is rebuilt.
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
  log "creating $venv"
  rm -rf "$venv"
  if ! "$python" -m venv "$venv"; then
    rm -rf "$venv"
    log "error: '$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"
    exit 1
  fi
fi

want="$(cat "$req" <("$venv/bin/python" -VV) | sha256sum | cut -d' ' -f1)"
if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
  log "installing $(grep -cE '^[a-zA-Z]' "$req") pinned tools from infra/requirements.txt (quietly)"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-input -r "$req" </dev/null
  echo "$want" >"$stamp"
fi

if [[ "${1:-}" == "--test" ]]; then
  # rustup profiles "minimal" lack these; adding an installed component is a no-op.
  for c in rustfmt clippy; do
    if ! cargo "${c/rustfmt/fmt}" --version >/dev/null 2>&1; then
      log "adding rustup component $c"
      rustup component add "$c"
    fi
  done
  if ! cargo nextest --version >/dev/null 2>&1; then
    log "cargo-nextest missing: cargo install cargo-nextest --locked (a few minutes, once)"
    cargo install cargo-nextest --locked --quiet
  fi
fi
