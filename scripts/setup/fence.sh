#!/usr/bin/env bash
# Installs the fencing test peers: ipmi_sim (Debian openipmi) as the BMC, ipmitool, and
# fence_ipmilan (Debian fence-agents). Idempotent: a second run only checks they are there.
set -euo pipefail
need=""
command -v ipmi_sim >/dev/null || need="$need openipmi"
command -v ipmitool >/dev/null || need="$need ipmitool"
[ -x /usr/sbin/fence_ipmilan ] || need="$need fence-agents"
if [ -n "$need" ]; then
  echo "[setup] installing$need"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
fi
command -v ipmi_sim >/dev/null || { echo "ipmi_sim is missing after installing openipmi" >&2; exit 1; }
command -v ipmitool >/dev/null || { echo "ipmitool is missing" >&2; exit 1; }
[ -x /usr/sbin/fence_ipmilan ] || { echo "/usr/sbin/fence_ipmilan is missing" >&2; exit 1; }
echo "[setup] ipmi_sim, ipmitool and fence_ipmilan are installed"
