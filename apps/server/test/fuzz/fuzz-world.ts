import { readFileSync } from 'node:fs'
import { WIRE_PATHS } from '@k8s-attest/core'
import { createTestCsr } from '../../src/ca/test-support/csr.ts'
import { FakeClusterClient } from '../fake-cluster-client.ts'
import { psatScenario } from '../psat-fixture.ts'
import { ADMIN_TOKEN } from '../server-harness.ts'
import { buildUnitApp, type UnitApp } from '../unit-app.ts'
import type { FuzzSeeds } from './fuzz-requests.ts'

/** The recorded kube-apiserver tokens of core's fixtures (read as data, not imported as code). */
const RECORDED_TOKENS_FILE = new URL(
  '../../../../packages/core/test/fixtures/service-account-tokens.json',
  import.meta.url,
)
/** The OpenSSL-made CSR of core's wire fixtures. */
const RECORDED_CSR_FILE = new URL(
  '../../../../packages/core/test/fixtures/wire/agent.csr.pem',
  import.meta.url,
)

/** A server app for the fuzz, with the real material its generators mutate. */
export interface FuzzWorld {
  readonly unit: UnitApp
  readonly seeds: FuzzSeeds
  /** How many log lines the server wrote (they are checked as they come, not kept). */
  logLineCount(): number
  /** Log lines that held a secret of the seeds (a token, the admin token, a private key). */
  readonly logLeaks: string[]
}

/**
 * A unit app (SQLite, real CA, fake clusters) in which one k8s_psat agent is attestable and
 * has attested once, so that its ID exists for the admin routes; the seeds hold that agent's
 * token, real CSRs (one made by OpenSSL), the recorded tokens and the admin token.
 */
export async function buildFuzzWorld(): Promise<FuzzWorld> {
  const scenario = psatScenario()
  const recorded = JSON.parse(readFileSync(RECORDED_TOKENS_FILE, 'utf8')) as { tokens: { token: string }[] }
  const recordedTokens = recorded.tokens.map((entry) => entry.token).filter((token) => token.length > 0)
  const secrets = [scenario.token, ADMIN_TOKEN, ...recordedTokens.filter((token) => token.length >= 40)]
  const logLeaks: string[] = []
  let logLines = 0
  const unit = await buildUnitApp(
    { psat: scenario.client, sat: new FakeClusterClient() },
    {
      logSink: (line) => {
        logLines++
        if (line.includes('PRIVATE KEY') || secrets.some((secret) => line.includes(secret))) {
          if (logLeaks.length < 10) logLeaks.push(line.slice(0, 2000))
        }
      },
    },
  )
  const csrs = [
    (await createTestCsr()).pem,
    (await createTestCsr({ algorithm: 'EC P-384' })).pem,
    readFileSync(RECORDED_CSR_FILE, 'utf8'),
  ]
  const csrAskingForNames = (
    await createTestCsr({
      subject: 'CN=spiffe://example.org/admin',
      requestedNames: [
        { type: 'url', value: 'spiffe://example.org/admin' },
        { type: 'dns', value: 'attacker.example' },
        { type: 'ip', value: '10.0.0.1' },
      ],
    })
  ).pem
  const attested = await unit.app.inject({
    method: 'POST',
    url: WIRE_PATHS.attest,
    payload: {
      attestation: { type: 'k8s_psat', payload: { cluster: 'demo', token: scenario.token } },
      csr: csrs[0],
    },
  })
  if (attested.statusCode !== 200) throw new Error(`the fuzz world's agent did not attest: ${attested.body}`)
  const spiffeId = (attested.json() as { spiffe_id: string }).spiffe_id
  return {
    unit,
    logLineCount: () => logLines,
    logLeaks,
    seeds: {
      validPsatToken: scenario.token,
      psatCluster: 'demo',
      satCluster: 'legacy',
      csrs,
      csrAskingForNames,
      recordedTokens,
      adminToken: ADMIN_TOKEN,
      knownAgentIds: [spiffeId, `${spiffeId.slice(0, -1)}0`],
    },
  }
}
