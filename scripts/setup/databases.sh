#!/usr/bin/env bash
# Makes sure PostgreSQL (127.0.0.1:5432, trust auth) and MariaDB (127.0.0.1:3306, root without a
# password) answer: the store contract tests create and drop their own databases on them.
# Installs them from Debian if missing, starts them if stopped.
set -euo pipefail
need=""
command -v pg_ctlcluster >/dev/null || need="$need postgresql"
[ -x /usr/sbin/mariadbd ] || need="$need mariadb-server"
if [ -n "$need" ]; then
  echo "[setup] installing$need"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  echo "[setup] starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! mariadb -h 127.0.0.1 -P 3306 -uroot -e 'select 1' >/dev/null 2>&1; then
  echo "[setup] starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 1 60); do mariadb -h 127.0.0.1 -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.5; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "PostgreSQL does not answer on 127.0.0.1:5432" >&2; exit 1; }
mariadb -h 127.0.0.1 -P 3306 -uroot -e 'select 1' >/dev/null || { echo "MariaDB does not answer on 127.0.0.1:3306" >&2; exit 1; }
echo "[setup] PostgreSQL and MariaDB answer"
