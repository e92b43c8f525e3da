# Entry points for people and CI. Each target first makes Node.js 24 and pnpm
# available (scripts/toolchain.sh installs them into .toolchain/ when needed).
SHELL := /usr/bin/env bash
WITH_TOOLCHAIN := . scripts/toolchain.sh &&

.PHONY: install test typecheck lint format demo

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

# The dashboard's browser files, which the server serves at /dashboard/ (rebuilt when they change).
DASHBOARD_BUILT := apps/dashboard/dist/web/index.html
$(DASHBOARD_BUILT): node_modules/.modules.yaml $(wildcard apps/dashboard/web/* apps/dashboard/package.json)
	@$(WITH_TOOLCHAIN) pnpm --silent --filter @k8s-attest/dashboard run build --logLevel warn

# The main job: an embedded Kubernetes cluster, the server, and one agent per node.
# DEMO_ARGS=--once exits once every agent has attested.
demo: install $(DASHBOARD_BUILT)
	@$(WITH_TOOLCHAIN) pnpm --silent demo $(DEMO_ARGS)

# The whole suite: types, lint, then unit and integration tests.
test: install
	@$(WITH_TOOLCHAIN) pnpm run ci
