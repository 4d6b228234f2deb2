#!/usr/bin/env bash
# Creates the Python virtualenvs the end-to-end tests use (the real openstack CLI, openstacksdk,
# schemathesis, Keystone, and Nova with placement), under $LIFEBOAT_TEST_ROOT (default ~/.cache/lifeboat-test).
# Idempotent: a venv is rebuilt only when its requirements file changes.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="${LIFEBOAT_TEST_ROOT:-$HOME/.cache/lifeboat-test}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$ROOT"

"$PYTHON" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed (python-masakariclient 8.9.0)"'

source "$HERE/scripts/setup/lib/venv.sh"

make_venv clients "$HERE/tests/e2e/python/requirements-clients.txt"
make_venv keystone "$HERE/tests/e2e/python/requirements-keystone.txt"
make_venv nova "$HERE/tests/e2e/python/requirements-nova.txt"
echo "[setup] python venvs ready under $ROOT"
