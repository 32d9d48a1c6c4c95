#!/usr/bin/env bash
# Makes a Docker engine available on this machine (root, Debian): installs docker.io if
# missing, starts dockerd in the background if nothing answers, waits until it does, and
# builds the registry-free Node base image the replica image is built on.
set -euo pipefail
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi
if ! docker version --format '{{.Server.Version}}' >/dev/null 2>&1; then
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker version --format '{{.Server.Version}}' >/dev/null 2>&1 && break
    sleep 1
  done
fi
docker version --format 'docker engine {{.Server.Version}}'
"$(dirname "$0")/local-base.sh"
