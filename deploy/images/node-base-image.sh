#!/usr/bin/env bash
# Builds a Node.js 24 base image without pulling anything: `docker import` of a root file system
# that holds the toolchain's Node binary (stripped of its debug symbols), the shared libraries
# `ldd` names, an unprivileged user (10001) and /tmp. No shell, no package manager: the images
# built on it run `node` and nothing else.
#
#   deploy/images/node-base-image.sh [TAG]     (default k8s-attest/node-base:24)
#
# For machines that cannot pull node:24-slim (the Dockerfiles' default BASE_IMAGE). Needs Linux
# with glibc (the image gets this machine's Node binary and libraries), docker, ldd and strip
# (binutils); the Node binary comes from .toolchain/ (scripts/toolchain.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "$(uname -s)" != Linux ]; then
  echo "node-base-image.sh: needs a Linux host (it copies this machine's node binary into a Linux image); build on node:24-slim instead (deploy/images/build.sh without --offline)" >&2
  exit 1
fi

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
libraries="$(ldd "$node_binary" | grep -o '/[^ ]*' | sort -u)"
# Name lookup: glibc before 2.34 loads files and DNS resolution from libraries of their own,
# which ldd does not list (since 2.34 they are inside libc). Without them the agent could not
# resolve spire-server.spire.svc.
libc_directory="$(dirname "$(grep '/libc\.so' <<<"$libraries" | head -n 1)")"
for nss in libnss_files.so.2 libnss_dns.so.2 libresolv.so.2; do
  if [ -e "$libc_directory/$nss" ]; then libraries="$libraries $libc_directory/$nss"; fi
done
for library in $libraries; do
  mkdir -p "$root$(dirname "$library")"
  cp -L "$library" "$root$library"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nk8s-attest:x:10001:10001:k8s-attest:/nonexistent:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nk8s-attest:x:10001:\n' >"$root/etc/group"

tar -C "$root" --numeric-owner -c . |
  docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'USER 10001:10001' - "$tag" >/dev/null
echo "node-base-image: $tag ($(docker run --rm --network none "$tag" node --version))"
