#!/usr/bin/env bash
# What the test suite needs beyond npm packages, on a Debian machine as root: Chromium for
# the report's browser test, and a running Docker engine with a registry-free Node base
# image for the docker-runtime tests. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
live/docker/start-engine.sh
