import { ApiException } from '@kubernetes/client-node'
import { describe, expect, it } from 'vitest'
import { kubeApiError } from './kube-api-error.ts'

const status = (message: string) => JSON.stringify({ kind: 'Status', status: 'Failure', message })

describe('kubeApiError', () => {
  it('calls an overloaded or failing API server transient, with its Retry-After', () => {
    const error = kubeApiError(
      'prod',
      'create',
      'tokenreviews',
      new ApiException(429, 'HTTP-Code: 429', status('too many requests'), { 'retry-after': '3' }),
    )
    expect(error).toMatchObject({
      code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
      message:
        'Kubernetes API call create tokenreviews in cluster "prod" failed with HTTP 429: too many requests',
      details: { check: 'kube_api', cluster: 'prod', value: '429', retryAfterSeconds: 3 },
    })
    expect(kubeApiError('prod', 'get', 'pods', new ApiException(503, '', 'upstream down', {}))).toMatchObject(
      {
        code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
        message: 'Kubernetes API call get pods in cluster "prod" failed with HTTP 503: upstream down',
      },
    )
  })

  it("quotes a plain-text answer without its newline, as kube-apiserver's overload filters write a 429", () => {
    const overloaded = new ApiException(429, '', 'Too many requests, please try again later.\n', {
      'retry-after': '1',
    })
    expect(kubeApiError('prod', 'create', 'tokenreviews', overloaded)).toMatchObject({
      code: 'ATT_ERR_KUBE_API_UNAVAILABLE',
      message:
        'Kubernetes API call create tokenreviews in cluster "prod" failed with HTTP 429: Too many requests, please try again later.',
      details: { retryAfterSeconds: 1 },
    })
    expect(kubeApiError('prod', 'get', 'pods', new ApiException(502, '', '\n', {})).message).toBe(
      'Kubernetes API call get pods in cluster "prod" failed with HTTP 502: no message',
    )
  })

  it('calls a refusal of our own request (RBAC, credentials) a misconfiguration, quoting the Status', () => {
    const refused = new ApiException(
      403,
      'HTTP-Code: 403',
      status(
        'nodes "node-a" is forbidden: User "system:serviceaccount:spire:k8s-attest-server" cannot get resource "nodes"',
      ),
      {},
    )
    const error = kubeApiError('prod', 'get', 'nodes', refused)
    expect(error.code).toBe('ATT_ERR_KUBE_API_FAILED')
    expect(error.message).toMatch(/failed with HTTP 403: nodes "node-a" is forbidden: User/)
    expect(error.cause).toBe(refused)
    expect(error.details).not.toHaveProperty('retryAfterSeconds')
  })

  it("names what happened to a call that got no answer, from the causes under fetch's own message", () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' })
    const error = kubeApiError('prod', 'list', 'nodes', new TypeError('fetch failed', { cause: refused }))
    expect(error.code).toBe('ATT_ERR_KUBE_API_UNAVAILABLE')
    expect(error.message).toMatch(
      /^Kubernetes API call list nodes in cluster "prod" failed: fetch failed: .*ECONNREFUSED/,
    )
  })
})
