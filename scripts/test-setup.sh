#!/usr/bin/env bash
# Installs everything the tests need (idempotent; a second run takes seconds):
#   databases.sh  PostgreSQL and MariaDB answering on loopback
#   masakari.sh   a stock Masakari 22 venv (the acceptance test, the benchmarks), RabbitMQ, socat
#   python.sh     venvs with the openstack CLI, openstacksdk, schemathesis and Keystone
#   *.sh          whatever else a crate's tests need (fence: ipmi_sim, fence agents; monitors: …)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
for script in "$HERE"/setup/*.sh; do
  bash "$script"
done
