#!/usr/bin/env bash
# The crm scheduler: `lifeboat crm simulate` vs Pacemaker 2.1.5's `crm_simulate -S` on the same
# CIBs (the seed's control plane, and generated ones from 3 nodes x 50 resources to 16 x 1,000
# with a failed node): time, peak memory, ratios. Knobs in bench/crm_bench.py (SIZES, REPEAT).
set -euo pipefail
source scripts/bench/common.sh
bash scripts/setup/crm.sh >/dev/null
build_release
python3 bench/crm_bench.py
