import { describe, expect, it } from 'vitest'
import { catchAttestError } from '../test/expect-attest-error.ts'
import { agentIdPrefix, type PsatAgentIdSource, psatAgentId, satAgentId, serverSpiffeId } from './agent-id.ts'
import { parseSpiffeId } from './spiffe-id.ts'

// UIDs as kube-apiserver v1.32.13 assigned them in shared/kube-reference.
const NODE_UID = '733588a8-e575-4852-8c05-5e4c7b17313e'
const POD_UID = '761196fa-56d8-4823-8d5d-af92b2955257'
const UUID_V4 = '3b241101-e2bb-4255-8caf-4136c566a962'

describe('psatAgentId', () => {
  it('names the agent by its node UID, as SPIRE does', () => {
    const id = psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'node_uid', uid: NODE_UID })
    expect(id).toBe(`spiffe://example.org/spire/agent/k8s_psat/demo/${NODE_UID}`)
    expect(parseSpiffeId(id).segments).toEqual(['spire', 'agent', 'k8s_psat', 'demo', NODE_UID])
  })

  it('names the agent by its pod UID under "pod/" when the cluster is configured so', () => {
    const id = psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'pod_uid', uid: POD_UID })
    expect(id).toBe(`spiffe://example.org/spire/agent/k8s_psat/demo/pod/${POD_UID}`)
  })

  it.each([
    [
      'a cluster name with a space',
      { cluster: 'prod west', uid: NODE_UID },
      'path_segment_characters',
      'invalid cluster name "prod west"',
    ],
    [
      'a cluster name with a slash',
      { cluster: 'prod/west', uid: NODE_UID },
      'path_segment_characters',
      'invalid cluster name "prod/west"',
    ],
    [
      'an empty cluster name',
      { cluster: '', uid: NODE_UID },
      'path_segment_empty',
      'invalid cluster name ""',
    ],
    [
      'a ".." cluster name',
      { cluster: '..', uid: NODE_UID },
      'path_segment_dot',
      'invalid cluster name ".."',
    ],
    ['an empty node UID', { cluster: 'demo', uid: '' }, 'path_segment_empty', 'invalid node UID ""'],
    [
      'a node UID with a colon',
      { cluster: 'demo', uid: 'a:b' },
      'path_segment_characters',
      'invalid node UID "a:b"',
    ],
  ])('refuses %s instead of escaping it', (_name, input, check, messageStart) => {
    const error = catchAttestError(() =>
      psatAgentId({ trustDomain: 'example.org', source: 'node_uid', ...input }),
    )
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe(check)
    expect(error.message.startsWith(messageStart)).toBe(true)
  })

  it('names the pod UID when that is what is wrong', () => {
    const error = catchAttestError(() =>
      psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'pod_uid', uid: 'x y' }),
    )
    expect(error.details.check).toBe('path_segment_characters')
    expect(error.message.startsWith('invalid pod UID "x y"')).toBe(true)
  })

  it('refuses an invalid trust domain', () => {
    const error = catchAttestError(() =>
      psatAgentId({ trustDomain: 'Example.org', cluster: 'demo', source: 'node_uid', uid: NODE_UID }),
    )
    expect(error.details.check).toBe('trust_domain_characters')
  })

  it('throws a TypeError for an unknown source (a programming error)', () => {
    const source = 'node_name' as PsatAgentIdSource
    expect(() => psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source, uid: NODE_UID })).toThrow(
      new TypeError('"source" must be "node_uid" or "pod_uid" (found "node_name")'),
    )
  })
})

describe('satAgentId', () => {
  it('names the agent by the given UUID v4', () => {
    expect(satAgentId({ trustDomain: 'example.org', cluster: 'demo', uuid: UUID_V4 })).toBe(
      `spiffe://example.org/spire/agent/k8s_sat/demo/${UUID_V4}`,
    )
  })

  it('accepts what crypto.randomUUID() produces', () => {
    const uuid = crypto.randomUUID()
    expect(satAgentId({ trustDomain: 'example.org', cluster: 'demo', uuid })).toMatch(new RegExp(`/${uuid}$`))
  })

  it.each([
    ['a UUID v1', '2c5ea4c0-4067-11e9-8bad-9b1deb4d3b7d'],
    ['a UUID with a wrong variant', '3b241101-e2bb-4255-1caf-4136c566a962'],
    ['an uppercase UUID v4', '3B241101-E2BB-4255-8CAF-4136C566A962'],
    ['a UUID without hyphens', '3b241101e2bb42558caf4136c566a962'],
    ['an empty string', ''],
    ['a node UID lookalike with a suffix', `${UUID_V4}-x`],
  ])('refuses %s', (_name, uuid) => {
    const error = catchAttestError(() => satAgentId({ trustDomain: 'example.org', cluster: 'demo', uuid }))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe('uuid_v4')
    expect(error.message).toBe(
      `invalid agent UUID ${JSON.stringify(uuid)}: a k8s_sat agent ID needs a canonical lowercase UUID v4 (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)`,
    )
  })

  it('refuses a cluster name that cannot be a path segment', () => {
    const error = catchAttestError(() =>
      satAgentId({ trustDomain: 'example.org', cluster: 'a b', uuid: UUID_V4 }),
    )
    expect(error.details.check).toBe('path_segment_characters')
    expect(error.message.startsWith('invalid cluster name "a b"')).toBe(true)
  })
})

describe('serverSpiffeId', () => {
  it('is spiffe://<td>/spire/server', () => {
    expect(serverSpiffeId('example.org')).toBe('spiffe://example.org/spire/server')
  })

  it('refuses an invalid trust domain', () => {
    const error = catchAttestError(() => serverSpiffeId('example.org:8443'))
    expect(error.code).toBe('ATT_ERR_SPIFFE_ID_INVALID')
    expect(error.details.check).toBe('trust_domain_characters')
  })
})

describe('agentIdPrefix', () => {
  it('is what every agent ID of the attestor and cluster starts with', () => {
    const prefix = agentIdPrefix('example.org', 'k8s_psat', 'demo')
    expect(prefix).toBe('spiffe://example.org/spire/agent/k8s_psat/demo/')
    expect(
      psatAgentId({ trustDomain: 'example.org', cluster: 'demo', source: 'pod_uid', uid: NODE_UID }),
    ).toMatch(new RegExp(`^${prefix}`))
    expect(agentIdPrefix('example.org', 'k8s_sat', 'legacy')).toBe(
      'spiffe://example.org/spire/agent/k8s_sat/legacy/',
    )
  })

  it('refuses a cluster name that cannot be a path segment', () => {
    expect(() => agentIdPrefix('example.org', 'k8s_psat', 'a/b')).toThrow(
      expect.objectContaining({ code: 'ATT_ERR_SPIFFE_ID_INVALID' }),
    )
  })
})
