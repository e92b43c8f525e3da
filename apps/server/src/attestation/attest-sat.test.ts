import { createHash, generateKeyPairSync, randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { attestRefusal } from '../../test/attest-refusal.ts'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import {
  legacyClaims,
  projectedClaims,
  signedToken,
  unsignedToken,
  withMirroredEcdsaSignature,
} from '../../test/tokens.ts'
import { openAgentStore } from '../datastore/open-agent-store.ts'
import { attestSat, tokenFingerprint } from './attest-sat.ts'
import { SatKeyVerifier } from './sat-key-verifier.ts'

const UUID = '3b241101-e2bb-4255-8caf-4136c566a962'
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 })

function reviewMode() {
  const serviceAccountUid = randomUUID()
  const token = unsignedToken(legacyClaims(serviceAccountUid))
  const client = new FakeClusterClient()
  client.reviews.set(token, {
    authenticated: true,
    user: { username: 'system:serviceaccount:spire:spire-agent', uid: serviceAccountUid, groups: [] },
  })
  return {
    token,
    client,
    input: {
      trustDomain: 'example.org',
      cluster: 'legacy',
      serviceAccountAllowList: ['spire:spire-agent'],
      verification: { kind: 'token-review' as const, client },
      token,
      uuid: UUID,
    },
  }
}

describe('attestSat in TokenReview mode', () => {
  it('refuses a malformed token without a review', async () => {
    const { input, client } = reviewMode()
    const error = await attestRefusal(attestSat({ ...input, token: 'not.a.token' }))
    expect(error.code).toBe('ATT_ERR_TOKEN_MALFORMED')
    expect(client.calls).toEqual([])
  })

  it('reviews without audiences and refuses an unauthenticated token', async () => {
    const { input, client, token } = reviewMode()
    client.reviews.set(token, {
      user: {},
      error: "[invalid bearer token, Token does not match server's copy]",
    })
    const error = await attestRefusal(attestSat(input))
    expect(error.code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
    expect(client.calls).toEqual(['reviewToken []'])
  })

  it('sends a projected token, whatever its aud, to the review with no audiences (no claimed-audience check)', async () => {
    const { input, client } = reviewMode()
    const claims: Record<string, unknown> = { ...projectedClaims(), aud: ['spire-server'] }
    const token = unsignedToken(claims)
    const uid = (claims['kubernetes.io'] as { serviceaccount: { uid: string } }).serviceaccount.uid
    client.reviews.set(token, {
      authenticated: true,
      audiences: ['https://kubernetes.default.svc.cluster.local'],
      user: { username: 'system:serviceaccount:spire:spire-agent', uid, groups: [] },
    })
    expect((await attestSat({ ...input, token })).serviceAccount).toBe('spire:spire-agent')
    expect(client.calls).toEqual(['reviewToken []'])
  })

  it("refuses when the reviewed UID is not the token's claim", async () => {
    const { input, client, token } = reviewMode()
    client.reviews.set(token, {
      authenticated: true,
      user: { username: 'system:serviceaccount:spire:spire-agent', uid: 'other' },
    })
    expect((await attestRefusal(attestSat(input))).code).toBe('ATT_ERR_SA_UID_MISMATCH')
  })

  it('refuses a service account not on the allow-list', async () => {
    const { input } = reviewMode()
    const error = await attestRefusal(
      attestSat({ ...input, serviceAccountAllowList: ['kube-system:node-agent'] }),
    )
    expect(error.code).toBe('ATT_ERR_SA_NOT_ALLOWED')
    expect(error.details).toMatchObject({ cluster: 'legacy', value: 'spire:spire-agent' })
  })

  it('mints a UUID agent ID, SPIRE selectors, and a single-use fingerprint', async () => {
    const { input, token } = reviewMode()
    const agent = await attestSat(input)
    expect(agent).toEqual({
      attestor: 'k8s_sat',
      cluster: 'legacy',
      spiffeId: `spiffe://example.org/spire/agent/k8s_sat/legacy/${UUID}`,
      selectors: [
        { type: 'k8s_sat', value: 'agent_ns:spire' },
        { type: 'k8s_sat', value: 'agent_sa:spire-agent' },
        { type: 'k8s_sat', value: 'cluster:legacy' },
      ],
      serviceAccount: 'spire:spire-agent',
      reattestable: false,
      singleUseToken: {
        fingerprint: createHash('sha256')
          .update(token.slice(0, token.lastIndexOf('.')))
          .digest('hex'),
      },
    })
  })
})

describe('attestSat in local key mode', () => {
  const verifier = new SatKeyVerifier({
    cluster: 'legacy',
    keys: [keys.publicKey],
    issuer: 'kubernetes/serviceaccount',
  })
  const base = {
    trustDomain: 'example.org',
    cluster: 'legacy',
    serviceAccountAllowList: ['spire:spire-agent'],
    verification: { kind: 'service-account-keys' as const, verifier },
    uuid: UUID,
  }

  it('attests a legacy token signed by the cluster key', async () => {
    const token = await signedToken(legacyClaims(), keys.privateKey, 'RS256')
    const agent = await attestSat({ ...base, token })
    expect(agent.spiffeId).toBe(`spiffe://example.org/spire/agent/k8s_sat/legacy/${UUID}`)
    expect(agent.singleUseToken?.fingerprint).toBe(tokenFingerprint(token))
  })

  it('keeps the claim of a projected token while the leeway still accepts the token', async () => {
    const issuer = 'https://kubernetes.default.svc.cluster.local'
    const claims = projectedClaims({ issuer })
    // Two minutes past `exp`: the 5 minutes' leeway still accepts the token.
    const now = () => new Date(((claims.exp as number) + 120) * 1000)
    const projected = new SatKeyVerifier({ cluster: 'legacy', keys: [keys.publicKey], issuer, now })
    const token = await signedToken(claims, keys.privateKey, 'RS256')
    const verification = { kind: 'service-account-keys' as const, verifier: projected }
    const dataDir = await mkdtemp(join(tmpdir(), 'k8s-attest-sat-'))
    const store = await openAgentStore({
      databaseType: 'sqlite3',
      connectionString: join(dataDir, 'db.sqlite3'),
      now,
    })
    try {
      const first = await attestSat({ ...base, verification, token })
      const { fingerprint, expiresAt } = first.singleUseToken ?? { fingerprint: '' }
      expect(await store.claimSatToken(fingerprint, expiresAt)).toBe(true)
      await store.pruneSatTokenClaims()
      const replay = await attestSat({ ...base, verification, token })
      expect(await store.claimSatToken(replay.singleUseToken?.fingerprint ?? '')).toBe(false)
    } finally {
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('claims an ECDSA token under one fingerprint, whichever of its two valid signatures it carries', async () => {
    const ecKeys = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const verifier = new SatKeyVerifier({
      cluster: 'legacy',
      keys: [ecKeys.publicKey],
      issuer: 'kubernetes/serviceaccount',
    })
    const token = await signedToken(legacyClaims(), ecKeys.privateKey, 'ES256')
    const mirrored = withMirroredEcdsaSignature(token)
    expect(mirrored).not.toBe(token)
    const verification = { kind: 'service-account-keys' as const, verifier }
    const original = await attestSat({ ...base, verification, token })
    const replay = await attestSat({ ...base, verification, token: mirrored })
    expect(replay.singleUseToken?.fingerprint).toBe(original.singleUseToken?.fingerprint)
  })

  it('refuses a forged token before looking at its claims', async () => {
    const token = unsignedToken(legacyClaims())
    expect((await attestRefusal(attestSat({ ...base, token }))).code).toBe('ATT_ERR_TOKEN_NOT_AUTHENTICATED')
  })

  it('refuses a signed token of a service account not allowed', async () => {
    const token = await signedToken(
      {
        ...legacyClaims(),
        sub: 'system:serviceaccount:spire:intruder',
        'kubernetes.io/serviceaccount/service-account.name': 'intruder',
      },
      keys.privateKey,
      'RS256',
    )
    expect((await attestRefusal(attestSat({ ...base, token }))).code).toBe('ATT_ERR_SA_NOT_ALLOWED')
  })
})
