#!/usr/bin/env bash
# What the test suite needs beyond npm packages, on a Debian machine as root: Chromium for
# the report's browser test, Debian's docker-compose (v1.29) for the compose tests, Debian's
# prometheus (prometheus + promtool) for the metrics tests, Debian's haproxy (2.6 on
# Debian 12) for the proxy-under-test tests (`npm run live -- --proxy haproxy`), and a
# running Docker engine with a registry-free Node base image (node, npm, sh, CA bundle) for
# the image and container tests. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if ! command -v docker-compose >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
fi
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
if ! command -v haproxy >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null
fi
live/docker/start-engine.sh
