#!/usr/bin/env bash
# Builds a Node.js 24 base image without pulling anything: `docker import` of a root file system
# that holds the toolchain's Node binary (stripped of its debug symbols), the shared libraries
# `ldd` names, an unprivileged user (10001) and /tmp. No shell, no package manager: the images
# built on it run `node` and nothing else.
#
#   deploy/images/node-base-image.sh [TAG]     (default k8s-attest/node-base:24)
#
# For machines that cannot pull node:24-slim (the Dockerfiles' default BASE_IMAGE). Needs docker,
# ldd and strip (binutils); the Node binary comes from .toolchain/ (scripts/toolchain.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

tag="${1:-k8s-attest/node-base:24}"
. scripts/toolchain.sh
node_binary="$(readlink -f "$(command -v node)")"

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"
cp "$node_binary" "$root/usr/local/bin/node"
strip --strip-debug "$root/usr/local/bin/node"
# Every library the binary links, at the path the dynamic loader looks for it.
for library in $(ldd "$node_binary" | grep -o '/[^ ]*' | sort -u); do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nk8s-attest:x:10001:10001:k8s-attest:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nk8s-attest:x:10001:\n' >"$root/etc/group"

tar -C "$root" --numeric-owner -c . |
  docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'USER 10001:10001' - "$tag" >/dev/null
echo "node-base-image: $tag ($(docker run --rm --network none "$tag" node --version))"
