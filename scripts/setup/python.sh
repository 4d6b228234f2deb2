#!/usr/bin/env bash
# Creates the Python virtualenvs the end-to-end tests use (the real openstack CLI with Lifeboat's
# plugin from client/, openstacksdk, schemathesis, Keystone, and Nova with placement), under
# $LIFEBOAT_TEST_ROOT (default ~/.cache/lifeboat-test).
# Idempotent: a venv is rebuilt only when its requirements file changes.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="${LIFEBOAT_TEST_ROOT:-$HOME/.cache/lifeboat-test}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$ROOT"

"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed (python-masakariclient 8.9.0)"'

source "$HERE/scripts/setup/lib/venv.sh"

make_venv clients "$HERE/tests/e2e/python/requirements-clients.txt"
# Lifeboat's own openstack CLI plugin, from this tree, beside python-masakariclient (its build
# backend, setuptools, comes from PyPI); again only when client/ changes.
client_stamp=$(cd "$HERE" && find client -name build -prune -o -name '*.egg-info' -prune -o \
  -name __pycache__ -prune -o -type f -print | sort | xargs sha256sum | sha256sum | cut -c1-16)
if [ "$(cat "$ROOT/clients/.client-stamp" 2>/dev/null)" != "$client_stamp" ]; then
  echo "[setup] installing the openstack CLI plugin (client/) into venv clients"
  # setuptools builds in the tree: no stale build/ may ship removed files.
  rm -rf "$HERE/client/build" "$HERE"/client/*.egg-info
  "$ROOT/clients/bin/pip" install -q "$HERE/client"
  rm -rf "$HERE/client/build" "$HERE"/client/*.egg-info
  echo "$client_stamp" > "$ROOT/clients/.client-stamp"
fi
make_venv keystone "$HERE/tests/e2e/python/requirements-keystone.txt"
make_venv nova "$HERE/tests/e2e/python/requirements-nova.txt"
echo "[setup] python venvs ready under $ROOT"
