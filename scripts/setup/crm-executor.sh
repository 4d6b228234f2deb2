#!/usr/bin/env bash
# Installs the agents the executor's tests run for real: Debian's resource-agents
# (ocf:heartbeat:Dummy) and pacemaker-resource-agents (ocf:pacemaker:Stateful, Dummy).
# Idempotent: a second run only checks they are there.
set -euo pipefail
need=""
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || need="$need resource-agents"
[ -x /usr/lib/ocf/resource.d/pacemaker/Stateful ] || need="$need pacemaker-resource-agents"
if [ -n "$need" ]; then
  echo "[setup] installing$need"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
fi
for agent in heartbeat/Dummy pacemaker/Stateful; do
  [ -x "/usr/lib/ocf/resource.d/$agent" ] || { echo "ocf:${agent/\//:} is missing after installing$need" >&2; exit 1; }
done
echo "[setup] resource agents ocf:heartbeat:Dummy and ocf:pacemaker:Stateful are installed"
