#!/usr/bin/env bash
# The benchmark command: Lifeboat side by side with the peers it replaces, in one run.
#   scripts/bench.sh [api]     API: Lifeboat vs Masakari 22 (masakari-api from PyPI)
#   scripts/bench.sh monitors  agents: peer detection latency, RSS and CPU vs masakari-monitors 22
#   scripts/bench.sh fence     time to a verified power-off: native IPMI client vs ipmitool -C 3
#                              vs fence_ipmilan, against one ipmi_sim (ITERATIONS, default 200)
#   scripts/bench.sh crm-scheduler  the crm scheduler vs crm_simulate (time, peak memory)
#   scripts/bench.sh recovery  host failure to instances ACTIVE elsewhere, on a real Nova 34:
#                              Nova alone vs Lifeboat vs Masakari 22 (api + engine); knobs in
#                              bench/recovery_bench.py (SIZES, MASAKARI_SIZES, MASAKARI_WAIT0, REPEAT)
# Each installs what it needs (scripts/bench/<name>.sh says what) and builds the release binary.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
what="${1:-api}"
script="scripts/bench/$what.sh"
if [ ! -f "$script" ]; then
  echo "unknown benchmark '$what' ($(cd scripts/bench && ls *.sh | grep -v '^common' | sed 's/\.sh$//' | paste -sd, -))" >&2
  exit 2
fi
export BENCH_ROOT="${LIFEBOAT_BENCH_ROOT:-$HOME/.cache/lifeboat-bench}"
mkdir -p "$BENCH_ROOT"
exec bash "$script"
