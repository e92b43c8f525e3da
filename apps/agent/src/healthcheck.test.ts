import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import type { AgentConfig } from './config.ts'
import { checkHealth } from './healthcheck.ts'
import { BUNDLE_FILE_NAME, prepareDataDir, SVID_FILE_NAME, storeBundle, storeSvid } from './svid-store.ts'
import { verifySvid } from './svid-verify.ts'
import { trustBundleFromCertificates } from './trust-bundle.ts'

const NOW = Math.floor(Date.now() / 1000) * 1000
const ID = 'spiffe://example.org/spire/agent/k8s_psat/demo/node-1'
let dataDir: string
let config: AgentConfig

beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), 'agent-health-')), 'data')
  await prepareDataDir(dataDir)
  config = { dataDir, trustDomain: 'example.org' } as AgentConfig
})
afterEach(() => rm(join(dataDir, '..'), { recursive: true, force: true }))

async function storeValidSvid(): Promise<void> {
  const ca = await TestCa.create()
  const bundle = trustBundleFromCertificates([ca.certPem], 'test')
  const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const leaf = await ca.issueLeaf({
    publicKey: keys.publicKey,
    uris: [ID],
    notBefore: new Date(NOW),
    notAfter: new Date(NOW + 60_000),
  })
  await storeBundle(dataDir, bundle)
  await storeSvid(
    dataDir,
    verifySvid({
      chainPem: [leaf],
      privateKey: keys.privateKey,
      bundle,
      trustDomain: 'example.org',
      now: NOW,
    }),
  )
}

describe('checkHealth', () => {
  it('is healthy while a valid SVID is stored', async () => {
    await storeValidSvid()
    expect(await checkHealth(config, NOW + 1000)).toEqual({
      healthy: true,
      message: `SVID ${ID} valid until ${new Date(NOW + 60_000).toISOString()}`,
    })
  })

  it('is unhealthy once the SVID has expired', async () => {
    await storeValidSvid()
    const report = await checkHealth(config, NOW + 60_000)
    expect(report.healthy).toBe(false)
    expect(report.message).toMatch(
      /^the stored SVID is not valid: certificate 1 of the SVID chain expired at /,
    )
  })

  it('is unhealthy before the first attestation', async () => {
    expect(await checkHealth(config, NOW)).toEqual({
      healthy: false,
      message: `no trust bundle at ${join(dataDir, BUNDLE_FILE_NAME)}: the agent has not attested yet`,
    })
    await storeValidSvid()
    await rm(join(dataDir, SVID_FILE_NAME))
    expect(await checkHealth(config, NOW)).toEqual({
      healthy: false,
      message: `no SVID at ${join(dataDir, SVID_FILE_NAME)}: the agent has not attested yet`,
    })
  })

  it('is unhealthy with a corrupt bundle', async () => {
    await writeFile(join(dataDir, BUNDLE_FILE_NAME), 'garbage')
    const report = await checkHealth(config, NOW)
    expect(report).toMatchObject({
      healthy: false,
      message: expect.stringContaining('holds no X.509 authority'),
    })
  })
})
