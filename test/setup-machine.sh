#!/usr/bin/env bash
# What the test suite needs beyond npm packages, on a Debian machine as root: Chromium for
# the report's browser test, Debian's docker-compose (v1.29) for the compose tests, Debian's
# prometheus (prometheus + promtool) for the metrics tests, Debian's haproxy (2.6 on
# Debian 12) for the proxy-under-test tests (`npm run live -- --proxy haproxy`), Debian's
# nginx (1.22) and caddy (2.6) for `--proxy nginx` / `--proxy caddy` (their own services are
# neither started nor left enabled: the tests start them on ports of their own), and a
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
# Installs Debian packages whose own service must not start: a policy-rc.d that refuses
# every start (exit 101, invoke-rc.d's "action forbidden") while apt runs, removed after
# unless one was there already; then, on a systemd machine, the services are disabled so
# they do not start at boot either (a Debian nginx would otherwise hold port 80).
install_without_services() {
  local policy=/usr/sbin/policy-rc.d created=''
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created=1
  fi
  local status=0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null || status=$?
  if [ -n "$created" ]; then rm -f "$policy"; fi
  if [ "$status" -ne 0 ]; then return "$status"; fi
  if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
    systemctl disable --now "$@" >/dev/null 2>&1 || true
  fi
}
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
command -v caddy >/dev/null 2>&1 || missing+=(caddy)
if [ "${#missing[@]}" -gt 0 ]; then
  install_without_services "${missing[@]}"
fi
live/docker/start-engine.sh
