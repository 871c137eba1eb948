# shellcheck shell=bash
# The preamble every script in infra/scripts sources: the repository root,
# `say`/`die` prefixed with the script's name, and pinned virtualenvs.
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_script="$(basename "$0" .sh)"

say() { printf '%s: %s\n' "$_script" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# pinned_venv DIR REQUIREMENTS: a virtualenv in DIR holding exactly the pinned
# REQUIREMENTS. One whose interpreter no longer runs (python upgraded or
# removed) is rebuilt; pip runs again only when the requirements (or the
# python) change.
pinned_venv() {
  local venv="$1" req="$2" python="${PYTHON:-python3}" stamp want
  stamp="$venv/.requirements.stamp"
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c '' 2>/dev/null; then
    say "creating $venv"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv"; then
      rm -rf "$venv"
      die "'$python -m venv' failed; on Debian/Ubuntu: apt-get install python3-venv"
    fi
  fi
  want="$(cat "$req" <("$venv/bin/python" -VV) | sha256sum | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    say "installing $(grep -cE '^[a-zA-Z]' "$req") pinned tools from ${req#"$root"/} into ${venv#"$root"/} (quietly)"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      --no-input -r "$req" </dev/null
    echo "$want" >"$stamp"
  fi
}
