# Entry points for people and CI. Each target first makes Node.js 24 and pnpm
# available (scripts/toolchain.sh installs them into .toolchain/ when needed).
SHELL := /usr/bin/env bash
WITH_TOOLCHAIN := . scripts/toolchain.sh &&

.PHONY: install build test typecheck lint format demo images kind-e2e

# Installs the workspace's dependencies when the lockfile or a package.json changed since.
install: node_modules/.modules.yaml

# Quiet: one line, and pnpm's output only when it fails.
node_modules/.modules.yaml: pnpm-lock.yaml package.json $(wildcard packages/*/package.json apps/*/package.json e2e/package.json)
	@echo "install: the workspace's dependencies (pnpm install)"
	@$(WITH_TOOLCHAIN) { pnpm install --frozen-lockfile --prefer-offline >.pnpm-install.log 2>&1 || { cat .pnpm-install.log; exit 1; }; }
	@rm -f .pnpm-install.log
	@touch $@

# Compiles every package to dist/: what the k8s-attest-server and k8s-attest-agent commands run
# (on PATH inside the toolchain: `. scripts/toolchain.sh`). Incremental, so quick when nothing changed.
build: install
	@$(WITH_TOOLCHAIN) pnpm --silent build

typecheck: install
	@$(WITH_TOOLCHAIN) pnpm typecheck

lint: install
	@$(WITH_TOOLCHAIN) pnpm lint

format: install
	@$(WITH_TOOLCHAIN) pnpm format

# The main job: an embedded Kubernetes cluster, the server, and one agent per node.
# DEMO_ARGS=--once exits once every agent has attested; DEMO_ARGS=--help lists the options.
# Ctrl-C stops it cleanly and make exits 0.
demo: build
	@$(WITH_TOOLCHAIN) pnpm --silent demo $(DEMO_ARGS)

# The whole suite: types, lint, then unit and integration tests.
test: install
	@$(WITH_TOOLCHAIN) pnpm run ci

# The server and agent images (apps/*/Dockerfile), sizes printed. IMAGES_ARGS=--offline pulls nothing (Linux hosts).
images: install
	@deploy/images/build.sh $(IMAGES_ARGS)

# On a machine with Docker and kind: a kind cluster, the images loaded, deploy/overlays/kind
# applied, every node's agent attested. KIND_E2E_ARGS=--keep keeps the cluster.
kind-e2e: install
	@e2e/kind/run.sh $(KIND_E2E_ARGS)
