/*
 * The V8 options and the environment the images run the apps with, so the benches measure them
 * as deployed. The Dockerfiles carry the same; `image-node-flags.test.ts` holds the two together.
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

/**
 * The environment both images set besides NODE_OPTIONS (`ENV` in both Dockerfiles): glibc's
 * malloc keeps at most two arenas instead of up to eight per core, so the memory the threads
 * Node runs beside JavaScript (libuv's pool, V8's helpers, OpenSSL) free is reused rather than
 * held in arenas of their own. Server RSS about 10 MiB lower on average (after 1,501
 * attestations 183–189 against 187–205 MiB, after 10,000 183–192 against 191–194; since
 * 2026-12-07), idle agent RSS 2 MiB, and server CPU per attestation no higher in three
 * interleaved `pnpm bench` rounds (docs/performance.md, "What changed").
 */
export const IMAGE_ENVIRONMENT: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' }

/**
 * The {@link IMAGE_ENVIRONMENT} a bench runs the apps with: the image's values, except where
 * `env` (the bench's own environment) sets the variable, so that `MALLOC_ARENA_MAX=8 pnpm bench`
 * runs them with that value for comparison.
 */
export function imageEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(IMAGE_ENVIRONMENT).map(([name, value]) => [name, env[name] ?? value]),
  )
}
