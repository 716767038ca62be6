#!/usr/bin/env bash
# The alert store's integration tests need a PostgreSQL server on 127.0.0.1:5432 where
# user postgres connects over TCP without a password (each test creates and drops a
# database of its own). This starts the local cluster if it is down, and installs
# PostgreSQL from the distribution's packages if it is missing. Prints one line.
set -euo pipefail

HOST=127.0.0.1
PORT=5432
WAIT_S=30
HBA_MARK="# seawatch: trust loopback logins (development and CI database)"

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi

ready() {
  command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h "$HOST" -p "$PORT" >/dev/null 2>&1
}

can_login() {
  psql -w -h "$HOST" -p "$PORT" -U postgres -d postgres -Atqc 'SELECT 1' >/dev/null 2>&1
}

check_login() {
  if ! can_login; then
    echo "postgresql on $HOST:$PORT is up, but user postgres cannot log in over TCP without a password:" \
      "add 'host all all 127.0.0.1/32 trust' to the top of its pg_hba.conf and reload it" >&2
    exit 1
  fi
}

# The highest version under a directory (/etc/postgresql, /usr/lib/postgresql), or nothing.
newest() { { ls "$1" 2>/dev/null || true; } | sort -V | tail -n 1; }

if ready; then
  check_login
  echo "postgresql: already accepting connections on $HOST:$PORT"
  exit 0
fi

did=""
if [ -z "$(newest /usr/lib/postgresql)" ]; then
  echo "postgresql not found: installing it from the distribution's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq postgresql >/dev/null
  did="installed PostgreSQL, "
fi

version="$(newest /etc/postgresql)"
if [ -z "$version" ] || [ ! -d "/etc/postgresql/$version/main" ]; then
  version="$(newest /usr/lib/postgresql)"
  $SUDO pg_createcluster --port "$PORT" "$version" main >/dev/null
  did="${did}created cluster $version/main, "
fi

# Only a server this script installed or created is opened up; an existing cluster keeps its rules.
if [ -n "$did" ]; then
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! $SUDO grep -qF "$HBA_MARK" "$hba"; then
    # pg_hba.conf is read top down and the first matching line wins: these go first.
    $SUDO sed -i "1i $HBA_MARK\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust" "$hba"
  fi
  did="${did}trusted loopback logins, "
fi

state="$(pg_lsclusters -h "$version" main 2>/dev/null | awk '{print $4}' || true)"
if [ "$state" = "online" ]; then
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main reload
else
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi

for _ in $(seq $((WAIT_S * 2))); do
  if ready; then break; fi
  sleep 0.5
done
if ! ready; then
  echo "postgresql cluster $version/main did not accept connections on $HOST:$PORT within ${WAIT_S} s;" \
    "see /var/log/postgresql/postgresql-$version-main.log" >&2
  exit 1
fi
check_login
echo "postgresql: ${did}started cluster $version/main on $HOST:$PORT"
