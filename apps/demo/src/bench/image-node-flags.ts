/*
 * The V8 options the images run the apps with, so the benches measure them as deployed. The
 * Dockerfiles carry the same lists; `image-node-flags.test.ts` holds the two together.
 */

/**
 * The V8 option the agent image sets (apps/agent/Dockerfile, `NODE_OPTIONS`): a young generation
 * of 1 MiB semi-spaces instead of V8's default (up to 16 MiB here). An idle agent allocates
 * little, so the extra scavenges cost nothing measurable, and 10–20 MiB of RSS go.
 */
export const AGENT_IMAGE_NODE_FLAGS = ['--max-semi-space-size=1'] as const

/**
 * The V8 option the server image sets (apps/server/Dockerfile, `NODE_OPTIONS`): semi-spaces of
 * 2 MiB instead of V8's up to 16. Server RSS after 10,000 attestations 335 → 245 MiB for about
 * 0.06 ms more GC per attestation. `--optimize-for-size` as well took it to 181 MiB but doubled
 * the server CPU of an agent-list page (docs/performance.md, "Server memory").
 */
export const SERVER_IMAGE_NODE_FLAGS = ['--max-semi-space-size=2'] as const
