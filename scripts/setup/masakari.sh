#!/usr/bin/env bash
# A stock Masakari 22 (masakari-api, masakari-engine, masakari-manage from PyPI) in a venv at
# $LIFEBOAT_TEST_ROOT/masakari (default ~/.cache/lifeboat-test/masakari), the RabbitMQ it casts to
# (127.0.0.1:5672, guest/guest) running, and socat (the tests forward a namespaced lab's API
# address to it). The stock-Masakari acceptance test and the benchmarks use it.
# Idempotent: the venv is rebuilt only when its requirements file changes.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ROOT="${LIFEBOAT_TEST_ROOT:-$HOME/.cache/lifeboat-test}"
PYTHON="${PYTHON:-python3}"
mkdir -p "$ROOT"

need=""
command -v socat >/dev/null || need="$need socat"
command -v rabbitmq-server >/dev/null || need="$need rabbitmq-server"
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need="$need python3-venv"
if [ -n "$need" ]; then
  echo "[setup] installing$need"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q $need >/dev/null
fi
# There is no systemd here: start RabbitMQ if it does not answer.
if ! rabbitmqctl -q status >/dev/null 2>&1; then
  echo "[setup] starting RabbitMQ"
  rabbitmq-server -detached
  for _ in $(seq 1 60); do rabbitmqctl -q status >/dev/null 2>&1 && break; sleep 1; done
fi
rabbitmqctl -q status >/dev/null 2>&1 || { echo "RabbitMQ does not answer" >&2; exit 1; }

source "$HERE/scripts/setup/lib/venv.sh"
make_venv masakari "$HERE/tests/e2e/python/requirements-masakari.txt"
venv="$ROOT/masakari"
[ -x "$venv/bin/masakari-api" ] || { echo "masakari-api is missing from $venv" >&2; exit 1; }
echo "[setup] stock Masakari 22 ready in $venv (RabbitMQ and socat too)"
