import { X509Certificate } from 'node:crypto'
import { isAttestErrorCode, PROBLEM_CONTENT_TYPE, SPIFFE_ID_MAX_BYTES, WIRE_PATHS } from '@k8s-attest/core'
import { STATUS_BY_CODE } from '../../src/http/status-by-code.ts'
import type { FuzzRequest, FuzzSeeds } from './fuzz-requests.ts'

/**
 * 5xx answers the fuzz accepts: faults of the Kubernetes API upstream, documented in the error
 * catalogue as not the caller's. Nothing the fuzz sends reaches one against a healthy cluster,
 * so in practice any 5xx is a finding.
 */
export const UPSTREAM_FAULT_CODES: ReadonlySet<string> = new Set([
  'ATT_ERR_KUBE_API_UNAVAILABLE',
  'ATT_ERR_KUBE_API_FAILED',
  'ATT_ERR_TOKEN_REVIEW_INVALID',
])

/**
 * The longest string a refusal may echo in `value` or `expected`: a SPIFFE ID at its limit,
 * plus room for an ellipsis. Anything longer is an unbounded echo of unverified input.
 */
export const MAX_ECHOED_CHARS = SPIFFE_ID_MAX_BYTES + 16
/** The longest `detail`: a sentence that may quote one bounded value and what was expected. */
export const MAX_DETAIL_CHARS = 2 * MAX_ECHOED_CHARS + 512

/** An answer as the fuzz sees it. */
export interface FuzzResponse {
  readonly statusCode: number
  readonly headers: Readonly<Record<string, string | string[] | number | undefined>>
  readonly body: string
}

const ADMIN_PREFIX = `${WIRE_PATHS.adminAgents}`

/**
 * What must hold for every answer, whatever was asked: no 5xx but upstream faults; every
 * refusal an RFC 9457 problem whose code is in the catalogue and whose status is that code's;
 * nothing echoed without a bound; no token echoed at all; admin data only for the admin
 * credential; an SVID only for a token the cluster vouches for, naming only the minted ID.
 *
 * @returns what is wrong with the answer, or `undefined` when nothing is.
 */
export function fuzzViolation(
  request: FuzzRequest,
  response: FuzzResponse,
  seeds: FuzzSeeds,
): string | undefined {
  const status = response.statusCode
  if (status >= 400) return problemViolation(request, response)
  if (status >= 300) return `unexpected redirect ${status}`
  const path = request.url.split('?')[0] ?? ''
  if (path.startsWith(ADMIN_PREFIX) && !request.carriesAdminToken) {
    return `admin route answered ${status} without the admin credential`
  }
  if (path === WIRE_PATHS.attest && request.method === 'POST') return svidViolation(request, response, seeds)
  if (request.token !== undefined && request.token.length >= 40 && response.body.includes(request.token)) {
    return 'a successful answer echoes the token'
  }
  return undefined
}

function problemViolation(request: FuzzRequest, response: FuzzResponse): string | undefined {
  const status = response.statusCode
  const contentType = String(response.headers['content-type'] ?? '')
  if (!contentType.startsWith(PROBLEM_CONTENT_TYPE)) {
    return `status ${status} with content-type "${contentType}", not ${PROBLEM_CONTENT_TYPE}`
  }
  if (request.method === 'HEAD') return status >= 500 ? `status ${status} on HEAD` : undefined
  let problem: Record<string, unknown>
  try {
    problem = JSON.parse(response.body) as Record<string, unknown>
  } catch {
    return `status ${status}: the problem body is not JSON`
  }
  const code = problem.code
  if (!isAttestErrorCode(code))
    return `status ${status}: code ${JSON.stringify(code)} is not in the catalogue`
  if (STATUS_BY_CODE[code] !== status)
    return `${code} answered ${status}, the catalogue says ${STATUS_BY_CODE[code]}`
  if (problem.status !== status) return `${code}: body status ${String(problem.status)} ≠ ${status}`
  if (status >= 500 && !UPSTREAM_FAULT_CODES.has(code)) return `${status} ${code}: a server fault`
  for (const field of ['value', 'expected', 'check', 'cluster'] as const) {
    const text = problem[field]
    if (typeof text === 'string' && text.length > MAX_ECHOED_CHARS) {
      return `${code}: ${field} echoes ${text.length} characters`
    }
  }
  if (typeof problem.detail === 'string' && problem.detail.length > MAX_DETAIL_CHARS) {
    return `${code}: detail is ${problem.detail.length} characters`
  }
  if (request.token !== undefined && request.token.length >= 40 && response.body.includes(request.token)) {
    return `${code}: the refusal echoes the token`
  }
  return undefined
}

function svidViolation(request: FuzzRequest, response: FuzzResponse, seeds: FuzzSeeds): string | undefined {
  if (request.token !== seeds.validPsatToken) return 'an SVID for a token the cluster does not vouch for'
  const answer = JSON.parse(response.body) as { spiffe_id: string; svid: string[] }
  const expectedPrefix = `spiffe://example.org/spire/agent/k8s_psat/${seeds.psatCluster}/`
  if (!answer.spiffe_id.startsWith(expectedPrefix)) return `SVID for unexpected ID ${answer.spiffe_id}`
  const leaf = new X509Certificate(answer.svid[0] ?? '')
  if (leaf.ca) return 'the issued SVID is a CA certificate'
  if (leaf.subjectAltName !== `URI:${answer.spiffe_id}`) {
    return `the issued SVID names ${leaf.subjectAltName ?? 'nothing'}, not only ${answer.spiffe_id}`
  }
  return undefined
}
