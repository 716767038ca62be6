#!/usr/bin/env bash
# tests/integration/test_docker_files.py validates docker/compose.yaml with
# `docker-compose config`, which needs no Docker engine. No engine runs on the CI
# machines and the `docker compose` plugin is absent, so the standalone docker-compose
# (Debian's package) is installed here if missing. Prints one line.
set -euo pipefail

version() { docker-compose version --short 2>/dev/null || echo "unknown version"; }

if command -v docker-compose >/dev/null 2>&1; then
  echo "docker-compose: $(version)"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# apt's chatter is shown only if it fails; --no-install-recommends: the command alone,
# without docker.io (the engine it recommends).
if ! log="$($SUDO apt-get update -qq 2>&1 && $SUDO apt-get install -y -qq --no-install-recommends docker-compose 2>&1)"; then
  echo "$log" >&2
  echo "docker-compose: installing Debian's docker-compose package failed" >&2
  exit 1
fi
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "docker-compose: the package installed, but no docker-compose command is on PATH" >&2
  exit 1
fi
echo "docker-compose installed: $(version)"
