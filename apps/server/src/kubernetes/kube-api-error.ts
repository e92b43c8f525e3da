import { AttestError } from '@k8s-attest/core'
import { ApiException } from '@kubernetes/client-node'
import { describeErrorChain } from '../logging/error-chain.ts'

/**
 * Turns a failed API call into an AttestError. An API server that is
 * overloaded, unreachable or failing is the caller's transient problem
 * (`ATT_ERR_KUBE_API_UNAVAILABLE`, 503 with Retry-After); an API server that
 * refuses our request (bad credentials, missing RBAC) is a misconfiguration
 * (`ATT_ERR_KUBE_API_FAILED`, 502). Neither is the agent's fault, so neither is a 4xx.
 */
export function kubeApiError(cluster: string, verb: string, resource: string, error: unknown): AttestError {
  const what = `${verb} ${resource} in cluster "${cluster}"`
  if (error instanceof ApiException) {
    const status = error.code
    const transient = status === 429 || status >= 500
    const retryAfter = Number.parseInt(error.headers['retry-after'] ?? '', 10)
    return new AttestError(
      transient ? 'ATT_ERR_KUBE_API_UNAVAILABLE' : 'ATT_ERR_KUBE_API_FAILED',
      `Kubernetes API call ${what} failed with HTTP ${status}: ${statusMessage(error.body)}`,
      {
        check: 'kube_api',
        cluster,
        value: String(status),
        cause: error,
        ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {}),
      },
    )
  }
  // fetch's own message is "fetch failed"; what happened (refused, reset, GOAWAY) is in its causes.
  const reason = describeErrorChain(error)
  return new AttestError('ATT_ERR_KUBE_API_UNAVAILABLE', `Kubernetes API call ${what} failed: ${reason}`, {
    check: 'kube_api',
    cluster,
    cause: error,
  })
}

/**
 * The `message` of a Kubernetes `Status` body, which client-node hands over as text or object;
 * else the start of the text itself (kube-apiserver's overload filters answer 429 in plain text).
 */
function statusMessage(body: unknown): string {
  const parsed = typeof body === 'string' ? safeJson(body) : body
  if (parsed !== null && typeof parsed === 'object' && 'message' in parsed) {
    return String((parsed as { message: unknown }).message)
  }
  return typeof body === 'string' && body.trim() !== '' ? body.trim().slice(0, 200) : 'no message'
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined // not JSON: the caller falls back to the raw text
  }
}
