import { randomBytes } from 'node:crypto'
import { WIRE_PATHS } from '@k8s-attest/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildFuzzWorld, type FuzzWorld } from './fuzz/fuzz-world.ts'
import type { RawTarget } from './fuzz/raw-connection.ts'
import { runInjectFuzz } from './fuzz/run-fuzz.ts'
import { SOCKET_CASES } from './fuzz/socket-cases.ts'
import { type RunningServer, startServer } from './server-harness.ts'

/*
 * The seeded CI run of the fuzz (`pnpm fuzz` is the large one): a few thousand generated
 * hostile requests against every route through inject(), each answer checked by the fuzz
 * oracle, and the socket-level cases once each against a real TLS listener. The seed is
 * fixed so a failure here replays; the large run draws a new one each time.
 */

const CI_CASES = 3000
const CI_SEED = 20_261_203

let world: FuzzWorld
let server: RunningServer
let target: RawTarget

beforeAll(async () => {
  world = await buildFuzzWorld()
  server = await startServer({ clusters: {} })
  const address = server.app.server.address()
  if (address === null || typeof address === 'string') throw new Error('not listening on TCP')
  target = { port: address.port, ca: server.ca.bundle().pem }
})

afterAll(async () => {
  await world?.unit.close()
  await server?.close()
})

describe('fuzz (seeded, small)', () => {
  it('answers every generated request without a 5xx, each refusal a catalogued problem', async () => {
    const figures = await runInjectFuzz({
      app: world.unit.app,
      seeds: world.seeds,
      cases: CI_CASES,
      seed: CI_SEED,
    })
    expect(figures.cases).toBe(CI_CASES)
    // The generators reach the routes' checks, not only the parsers: successes and refusals.
    expect(figures.byStatus['200']).toBeGreaterThan(0)
    expect(figures.byStatus['400']).toBeGreaterThan(0)
    expect(figures.byStatus['401']).toBeGreaterThan(0)
    expect(world.logLineCount()).toBeGreaterThan(CI_CASES / 2)
    expect(world.logLeaks).toEqual([])
  }, 120_000)

  it.each(SOCKET_CASES.map((socketCase) => [socketCase.name, socketCase] as const))(
    'socket level: %s',
    async (_name, socketCase) => {
      expect(await socketCase.run(target, randomBytes(64))).toBeUndefined()
      // And the listener still serves.
      expect((await server.request('GET', WIRE_PATHS.bundle)).status).toBe(200)
    },
  )
})
