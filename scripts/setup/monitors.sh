#!/usr/bin/env bash
# What the monitor agents' tests need: iproute2 and iptables (network-namespace test hosts,
# packet loss), libvirtd with QEMU (instancemonitor against real domains), corosync and
# pacemaker (the pacemaker hostmonitor driver on a one-node cluster). Idempotent; a second run takes seconds.
set -euo pipefail
need=""
command -v ip >/dev/null || need="$need iproute2"
# prlimit: the API's connection tests run it at a 256-descriptor limit.
command -v prlimit >/dev/null || need="$need util-linux"
command -v iptables >/dev/null || need="$need iptables"
[ -x /usr/sbin/libvirtd ] || need="$need libvirt-daemon-system"
command -v virsh >/dev/null || need="$need libvirt-clients"
command -v qemu-system-x86_64 >/dev/null || need="$need qemu-system-x86"
command -v corosync >/dev/null || need="$need corosync"
[ -x /usr/sbin/pacemakerd ] || need="$need pacemaker"
command -v crm_mon >/dev/null || need="$need pacemaker-cli-utils"
if [ -n "$need" ]; then
  echo "[setup] installing$need"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  # Keep package scripts from starting daemons: the tests start their own.
  policy=/usr/sbin/policy-rc.d
  created=""
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends $need >/dev/null
  [ -n "$created" ] && rm -f "$policy"
fi
# libvirtd (and its log daemon) for the instancemonitor tests; there is no systemd here.
if ! virsh -c qemu:///system version >/dev/null 2>&1; then
  echo "[setup] starting libvirtd"
  pgrep -x virtlogd >/dev/null || virtlogd -d
  libvirtd -d
  for _ in $(seq 1 50); do virsh -c qemu:///system version >/dev/null 2>&1 && break; sleep 0.2; done
fi
virsh -c qemu:///system version >/dev/null || { echo "libvirtd does not answer" >&2; exit 1; }
echo "[setup] monitor test peers ready (ip, iptables, libvirtd, qemu, corosync, pacemaker)"
