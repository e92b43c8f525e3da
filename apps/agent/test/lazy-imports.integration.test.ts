import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { EXIT_CODES } from '../src/cli.ts'
import { createAgentFixture } from './agent-fixture.ts'
import { exitCode, logLine, spawnAgent } from './agent-process.ts'
import { FakeServer } from './fake-server.ts'

const PRELOAD = new URL('./loaded-modules.preload.ts', import.meta.url).href
const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Runs `k8s-attest-agent run` until it holds an SVID, stops it, and lists what it loaded. */
async function modulesLoadedByRun(extraConfig?: string): Promise<string[]> {
  const server = await FakeServer.start()
  cleanups.push(() => server.close())
  const fixture = await createAgentFixture({
    serverPort: server.port,
    bundlePem: server.ca.certPem,
    token: 'eyJhbGciOiJSUzI1NiJ9.bGF6eS1pbXBvcnRz.c2ln',
    ...(extraConfig === undefined ? {} : { extra: extraConfig }),
  })
  cleanups.push(() => fixture.cleanup())
  const dir = await mkdtemp(join(tmpdir(), 'agent-loaded-modules-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  const listPath = join(dir, 'loaded.txt')
  const child = spawnAgent(['run', '-config', fixture.configPath], {
    cleanups,
    preload: [PRELOAD],
    env: { K8S_ATTEST_TEST_LOADED_MODULES: listPath },
  })
  await logLine(child, 'SVID obtained')
  child.kill('SIGTERM')
  expect(await exitCode(child)).toBe(EXIT_CODES.ok)
  return (await readFile(listPath, 'utf8')).split('\n')
}

const fromPackage = (modules: readonly string[], name: string) =>
  modules.filter((url) => url.includes(`/node_modules/${name}/`))

describe('what `k8s-attest-agent run` loads', () => {
  it('does not load prom-client or the metrics listener without a telemetry block', async () => {
    const modules = await modulesLoadedByRun()
    // The recording works: the agent's HTTP client was loaded to attest.
    expect(fromPackage(modules, 'undici').length).toBeGreaterThan(0)
    expect(fromPackage(modules, 'prom-client')).toEqual([])
    expect(modules.filter((url) => /\/src\/metrics(-listener)?\.ts$/.test(url))).toEqual([])
  })

  it('loads prom-client once a metrics listener is configured', async () => {
    const modules = await modulesLoadedByRun('telemetry {\n  Prometheus {\n    port = 0\n  }\n}')
    expect(fromPackage(modules, 'prom-client').length).toBeGreaterThan(0)
    expect(modules.filter((url) => /\/src\/metrics\.ts$/.test(url))).toHaveLength(1)
  })
})
