#!/usr/bin/env bash
# The integration tests start their own Mosquitto brokers on free ports (so they can
# kill and restart them); they need the mosquitto binary, installed here if missing.
set -euo pipefail
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  exit 0
fi
echo "mosquitto not found: installing it from the distribution's packages" >&2
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq mosquitto >/dev/null
# The package may start a system broker; the tests do not need it and use their own ports.
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]
