#!/usr/bin/env bash
# API: GET /v1/segments and POST /v1/notifications, Lifeboat vs masakari-api 22 (wrk, MariaDB).
# DURATION=<seconds per run> (default 10).
set -euo pipefail
source scripts/bench/common.sh
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk >/dev/null; }
bash scripts/setup/databases.sh >/dev/null
need_masakari
build_release
python3 bench/api_bench.py
