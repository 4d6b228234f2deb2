#!/usr/bin/env bash
# Monitor agents: peer-driver detection latency (median, p99), RSS and CPU of each agent, beside
# masakari-monitors 22; the same reports sent to a stock Masakari 22 API.
set -euo pipefail
source scripts/bench/common.sh
bash scripts/setup/monitors.sh >/dev/null
if [ ! -x "$BENCH_ROOT/masakari-monitors/bin/masakari-processmonitor" ]; then
  echo "[bench] installing masakari-monitors 22.0.0 into $BENCH_ROOT/masakari-monitors"
  # --system-site-packages: the instancemonitor needs Debian's python3-libvirt.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-libvirt python3-venv >/dev/null
  python3 -m venv --system-site-packages "$BENCH_ROOT/masakari-monitors"
  "$BENCH_ROOT/masakari-monitors/bin/pip" install -q masakari-monitors==22.0.0
fi
# A stock Masakari 22 API takes the same reports (it needs MariaDB and RabbitMQ).
bash scripts/setup/databases.sh >/dev/null
need_masakari
build_release
MONITORS_VENV="$BENCH_ROOT/masakari-monitors" python3 bench/monitors_bench.py
