#!/usr/bin/env bash
# Fencing: time to a verified power-off, native IPMI client vs ipmitool -I lanplus -C 3 vs
# fence_ipmilan, against one ipmi_sim. ITERATIONS (default 200).
set -euo pipefail
source scripts/bench/common.sh
bash scripts/setup/fence.sh >/dev/null
build_release
cargo run --release -q -p lifeboat-fence --example fence_bench
