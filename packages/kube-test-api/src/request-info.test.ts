import { describe, expect, it } from 'vitest'
import { parseRequestInfo, resourceLabel } from './request-info.ts'

const parse = (method: string, path: string) => parseRequestInfo(method, new URL(path, 'https://k'))

describe('parseRequestInfo', () => {
  it('reads verb, group, version, namespace, resource, name and subresource', () => {
    expect(parse('POST', '/api/v1/namespaces/spire/serviceaccounts/agent/token')).toEqual({
      resourceRequest: true,
      path: '/api/v1/namespaces/spire/serviceaccounts/agent/token',
      verb: 'create',
      apiGroup: '',
      apiVersion: 'v1',
      resource: 'serviceaccounts',
      subresource: 'token',
      namespace: 'spire',
      name: 'agent',
    })
    expect(parse('POST', '/apis/authentication.k8s.io/v1/tokenreviews')).toMatchObject({
      verb: 'create',
      apiGroup: 'authentication.k8s.io',
      resource: 'tokenreviews',
      namespace: '',
    })
  })

  it('tells list, watch, get, deletecollection and the namespace object apart', () => {
    expect(parse('GET', '/api/v1/pods').verb).toBe('list')
    expect(parse('GET', '/api/v1/namespaces/spire/pods?watch=true').verb).toBe('watch')
    expect(parse('GET', '/api/v1/namespaces/spire/pods?watch=1').verb).toBe('watch')
    expect(parse('DELETE', '/api/v1/namespaces/spire/pods').verb).toBe('deletecollection')
    expect(parse('GET', '/api/v1/namespaces/spire')).toMatchObject({
      resource: 'namespaces',
      name: 'spire',
      namespace: 'spire',
    })
    expect(parse('PUT', '/api/v1/namespaces/spire/status')).toMatchObject({
      resource: 'namespaces',
      subresource: 'status',
    })
  })

  it('treats other paths as non-resource requests', () => {
    expect(parse('GET', '/openid/v1/jwks')).toEqual({
      resourceRequest: false,
      path: '/openid/v1/jwks',
      verb: 'get',
    })
    expect(resourceLabel(parse('GET', '/version'))).toBe('/version')
    expect(resourceLabel(parse('POST', '/api/v1/namespaces/s/serviceaccounts/a/token'))).toBe(
      'serviceaccounts/token',
    )
  })
})
