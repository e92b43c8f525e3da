# Entry points for people and CI. Each target first makes Node.js 24 and pnpm
# available (scripts/toolchain.sh installs them into .toolchain/ when needed).
SHELL := /usr/bin/env bash
WITH_TOOLCHAIN := . scripts/toolchain.sh &&

.PHONY: install test typecheck lint format demo images kind-e2e

# Installs the workspace's dependencies when the lockfile or a package.json changed since.
install: node_modules/.modules.yaml

node_modules/.modules.yaml: pnpm-lock.yaml package.json $(wildcard packages/*/package.json apps/*/package.json e2e/package.json)
	@$(WITH_TOOLCHAIN) pnpm install --frozen-lockfile --prefer-offline
	@touch $@

typecheck: install
	@$(WITH_TOOLCHAIN) pnpm typecheck

lint: install
	@$(WITH_TOOLCHAIN) pnpm lint

format: install
	@$(WITH_TOOLCHAIN) pnpm format

# The main job: an embedded Kubernetes cluster, the server, and one agent per node.
# DEMO_ARGS=--once exits once every agent has attested.
demo: install
	@$(WITH_TOOLCHAIN) pnpm --silent demo $(DEMO_ARGS)

# The whole suite: types, lint, then unit and integration tests.
test: install
	@$(WITH_TOOLCHAIN) pnpm run ci

# The server and agent images (apps/*/Dockerfile), sizes printed. IMAGES_ARGS=--offline pulls nothing.
images: install
	@deploy/images/build.sh $(IMAGES_ARGS)

# On a machine with Docker and kind: a kind cluster, the images loaded, deploy/overlays/kind
# applied, every node's agent attested. KIND_E2E_ARGS=--keep keeps the cluster.
kind-e2e: install
	@e2e/kind/run.sh $(KIND_E2E_ARGS)
