#!/usr/bin/env bash
# Builds a Node base image without any registry: FROM scratch + this host's `node` binary
# and the shared libraries `ldd` lists. For machines that cannot pull node:20-slim (CI
# here); everywhere else build the replica image from node:20-slim instead.
#   live/docker/local-base.sh [TAG]      (default tag: fulcrum-node-base:local)
set -euo pipefail
tag="${1:-fulcrum-node-base:local}"
node_bin="$(readlink -f "$(command -v node)")"
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/local/bin" "$ctx/rootfs/tmp"
chmod 1777 "$ctx/rootfs/tmp"
cp "$node_bin" "$ctx/rootfs/usr/local/bin/node"
# Every library node links against, at the same path, plus the dynamic loader.
ldd "$node_bin" | grep -o '/[^ ]*' | while read -r lib; do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
# Name resolution for "localhost" inside the container.
mkdir -p "$ctx/rootfs/etc"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$ctx/rootfs/etc/hosts"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\n' > "$ctx/rootfs/etc/passwd"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin
DOCKERFILE
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
