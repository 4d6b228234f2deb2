#!/usr/bin/env bash
# Recovery: a compute host failure to its instances ACTIVE elsewhere, on one real Nova 34 with
# Keystone: Nova alone (evacuations by hand) vs Lifeboat vs Masakari 22 (api + engine).
set -euo pipefail
source scripts/bench/common.sh
bash scripts/setup/python.sh >/dev/null
bash scripts/setup/databases.sh >/dev/null
need_masakari
build_release
python3 bench/recovery_bench.py
