# Entry points for people and CI. Each target first makes Node.js 24 and pnpm
# available (scripts/toolchain.sh installs them into .toolchain/ when needed).
SHELL := /usr/bin/env bash
WITH_TOOLCHAIN := . scripts/toolchain.sh &&

.PHONY: install test typecheck lint format demo

install:
	@$(WITH_TOOLCHAIN) pnpm install --frozen-lockfile --prefer-offline

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
