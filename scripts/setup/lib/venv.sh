# Sourced by scripts/setup/*.sh: make_venv NAME REQUIREMENTS-FILE creates $ROOT/NAME with
# $PYTHON and installs the requirements, again only when that file changes (its hash is kept in
# the venv's .stamp).
make_venv() {
  local name=$1 req=$2 venv="$ROOT/$1"
  local stamp; stamp=$(sha256sum "$req" | cut -c1-16)
  if [ -f "$venv/.stamp" ] && [ "$(cat "$venv/.stamp")" = "$stamp" ]; then
    echo "[setup] venv $name is up to date"
    return
  fi
  echo "[setup] creating venv $name (this takes a minute the first time)"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  "$venv/bin/pip" install -q -r "$req"
  echo "$stamp" > "$venv/.stamp"
}
