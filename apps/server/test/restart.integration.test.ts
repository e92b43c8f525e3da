import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { KubeWorld } from './kube-world.ts'
import { newAgentKey, startServer } from './server-harness.ts'

/*
 * A restart on the same data_dir keeps the CA (so the bundle agents hold stays valid) and every
 * record (so agents keep renewing).
 */

let world: KubeWorld
let dataDir: string

beforeAll(async () => {
  world = await KubeWorld.start()
  dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-restart-'))
})

afterAll(async () => {
  await world?.stop()
  await rm(dataDir, { recursive: true, force: true })
})

it('keeps the CA, the bundle and every record across a restart; renewal still works', async () => {
  const clusters = { psat: { demo: { world } }, satReview: { legacy: world } }
  const first = await startServer({ clusters, dataDir })
  const key = await newAgentKey()
  const token = world.api.createLegacyTokenSecret('spire', 'restart-token', 'spire-agent')
  const attested = await first.attest('k8s_sat', 'legacy', token, key.csrPem)
  expect(attested.status).toBe(200)
  const pod = world.newAgentPod()
  const psat = await first.attest('k8s_psat', 'demo', pod.token, (await newAgentKey()).csrPem)
  expect(psat.status).toBe(200)
  const bundleBefore = await first.request('GET', '/v1/bundle')
  await first.close()

  const second = await startServer({ clusters, dataDir })
  try {
    expect((await second.request('GET', '/v1/bundle')).body).toEqual(bundleBefore.body)
    const ids = (await second.store.listAgents()).agents.map((agent) => agent.spiffeId)
    expect(ids).toEqual(expect.arrayContaining([attested.body.spiffe_id, psat.body.spiffe_id]))
    const dispatcher = second.client({ cert: (attested.body.svid as string[]).join('\n'), key: key.keyPem })
    try {
      const renewed = await second.request('POST', '/v1/renew', {
        body: { csr: (await newAgentKey()).csrPem },
        dispatcher,
      })
      expect(renewed.status).toBe(200)
      expect(renewed.body.spiffe_id).toBe(attested.body.spiffe_id)
    } finally {
      await dispatcher.close()
    }
    const replay = await second.attest('k8s_sat', 'legacy', token, (await newAgentKey()).csrPem)
    expect(replay.body.code).toBe('ATT_ERR_TOKEN_REPLAYED')
  } finally {
    await second.close()
  }
})
