#!/usr/bin/env bash
# Installs the crm tests' reference: Pacemaker's crm_simulate (Debian pacemaker-cli-utils,
# 2.1.5 on bookworm), which the differential suite compares `lifeboat crm simulate` with.
# Idempotent: a second run only checks it is there.
set -euo pipefail
if ! command -v crm_simulate >/dev/null; then
  echo "[setup] installing pacemaker-cli-utils"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pacemaker-cli-utils >/dev/null
fi
command -v crm_simulate >/dev/null || { echo "crm_simulate is missing after installing pacemaker-cli-utils" >&2; exit 1; }
echo "[setup] crm_simulate $(crm_simulate --version 2>/dev/null | head -1 | awk '{print $2}') is installed"
