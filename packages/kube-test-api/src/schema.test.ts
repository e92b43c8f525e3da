import { describe, expect, it } from 'vitest'
import { node, pod, tokenReview } from './api-types.ts'
import { canonicalize, findDecodeMismatch, zeroValue } from './schema.ts'

describe('zeroValue', () => {
  it('is the Go zero value as encoding/json writes it (the body of a BOOKMARK)', () => {
    expect(zeroValue(pod)).toEqual({
      metadata: { creationTimestamp: null },
      spec: { containers: null },
      status: {},
    })
    expect(zeroValue(node)).toEqual({
      metadata: { creationTimestamp: null },
      spec: {},
      status: {
        daemonEndpoints: { kubeletEndpoint: { Port: 0 } },
        nodeInfo: {
          machineID: '',
          systemUUID: '',
          bootID: '',
          kernelVersion: '',
          osImage: '',
          containerRuntimeVersion: '',
          kubeletVersion: '',
          kubeProxyVersion: '',
          operatingSystem: '',
          architecture: '',
        },
      },
    })
  })
})

describe('canonicalize', () => {
  it('orders fields as Go declares them, sorts maps, applies omitempty and keeps unknown fields last', () => {
    const canonical = canonicalize(pod, {
      status: { phase: 'Pending' },
      spec: { nodeName: 'n', containers: [{ image: 'i', name: 'a' }], hostNetwork: false, priority: 0 },
      metadata: { labels: { b: '1', a: '2' }, name: 'p', annotations: {} },
      apiVersion: 'v1',
      kind: 'Pod',
      extra: true,
    })
    expect(JSON.stringify(canonical)).toBe(
      '{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","creationTimestamp":null,"labels":{"a":"2","b":"1"}},' +
        '"spec":{"containers":[{"name":"a","image":"i","resources":{}}],"nodeName":"n","priority":0},"status":{"phase":"Pending"},"extra":true}',
    )
  })
})

describe('findDecodeMismatch', () => {
  it("words a type mismatch as Go's decoder does", () => {
    expect(findDecodeMismatch(tokenReview, { spec: 'oops' }, 'TokenReview')?.message).toBe(
      'json: cannot unmarshal string into Go struct field TokenReview.spec of type v1.TokenReviewSpec',
    )
    expect(findDecodeMismatch(tokenReview, { spec: { audiences: 'a' } }, 'TokenReview')?.message).toBe(
      'json: cannot unmarshal string into Go struct field TokenReviewSpec.spec.audiences of type []string',
    )
    expect(findDecodeMismatch(pod, { spec: { priority: 'high' } }, 'Pod')?.message).toBe(
      'json: cannot unmarshal string into Go struct field PodSpec.spec.priority of type int32',
    )
    expect(
      findDecodeMismatch(tokenReview, { spec: { token: 't', audiences: ['a'] } }, 'TokenReview'),
    ).toBeUndefined()
  })
})
