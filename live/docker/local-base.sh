#!/usr/bin/env bash
# Builds a Node base image without any registry, a look-alike of node:24-slim for what the
# Dockerfile needs: FROM scratch + Node 24 (the host's node if it is 24 or newer, else the one
# scripts/node24.mjs keeps in .build/node24/), npm (as /usr/local/bin/npm), /bin/sh
# (dash) and /usr/bin/env for RUN steps and npm scripts, the shared libraries they link
# against, and the host's CA bundle (NODE_EXTRA_CA_CERTS), so `npm ci` inside a build works
# behind a TLS-intercepting proxy. For machines that cannot pull node:24-slim (CI here);
# everywhere else build from node:24-slim.
#   live/docker/local-base.sh [TAG]      (default tag: fulcrum-node24-base:local)
set -euo pipefail
tag="${1:-fulcrum-node24-base:local}"
node_bin="$(readlink -f "$(node "$(dirname "$0")/../../scripts/node24.mjs" --print)")"
npm_dir="$(readlink -f "$(dirname "$(readlink -f "$(command -v npm)")")/..")"
ca_bundle=/etc/ssl/certs/ca-certificates.crt
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
root="$ctx/rootfs"
mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules" "$root/bin" "$root/usr/bin" \
  "$root/tmp" "$root/root" "$root/home/node" "$root/etc/ssl/certs"
chmod 1777 "$root/tmp"
chown 1000:1000 "$root/home/node"

# A binary at a path, and every library it links against at the same path (+ the loader).
copy_binary() {
  cp -L "$1" "$root$2"
  ldd "$1" | grep -o '/[^ ]*' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}
copy_binary "$node_bin" /usr/local/bin/node
copy_binary "$(readlink -f /bin/dash)" /bin/sh
copy_binary "$(readlink -f /usr/bin/env)" /usr/bin/env

# npm where node:24-slim has it; wrappers instead of symlinks so no shebang lookup is needed.
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
for cmd in npm npx; do
  printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/%s-cli.js "$@"\n' "$cmd" > "$root/usr/local/bin/$cmd"
  chmod 755 "$root/usr/local/bin/$cmd"
done
if [ -f "$ca_bundle" ]; then cp -L "$ca_bundle" "$root$ca_bundle"; fi

# Name resolution for "localhost" inside the container; users as in node:24-slim.
printf '127.0.0.1 localhost\n::1 localhost\n' > "$root/etc/hosts"
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/home/node:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
CMD ["node"]
DOCKERFILE
docker build -q -t "$tag" "$ctx" >/dev/null
echo "$tag"
