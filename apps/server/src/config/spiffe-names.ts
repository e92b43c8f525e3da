/**
 * Local checks of trust domain names and SPIFFE IDs, after the SPIFFE ID specification
 * (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md). They return what is
 * wrong as text, or `undefined` when the value is valid, so the configuration loader can list
 * every problem and the CA can turn one into a `TypeError`.
 */

const TRUST_DOMAIN_CHARACTERS = /^[a-z0-9._-]+$/
const PATH_SEGMENT_CHARACTERS = /^[A-Za-z0-9._-]+$/
/** SPIFFE-ID.md §2.1: "trust domain names SHOULD NOT be longer than 255 bytes". */
const MAX_TRUST_DOMAIN_LENGTH = 255
/** SPIFFE-ID.md §2.3: "URIs with a total length longer than 2048 bytes … SHOULD NOT be used". */
const MAX_SPIFFE_ID_LENGTH = 2048

/** What is wrong with `name` as a trust domain name, or `undefined` if it is valid. */
export function trustDomainProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty'
  if (name.startsWith('spiffe://')) {
    return `must be the bare trust domain name without "spiffe://"; got ${JSON.stringify(name)}`
  }
  if (name.length > MAX_TRUST_DOMAIN_LENGTH) {
    return `must be at most ${MAX_TRUST_DOMAIN_LENGTH} characters; got ${name.length}`
  }
  if (!TRUST_DOMAIN_CHARACTERS.test(name)) {
    return `must contain only lowercase letters, digits, ".", "-" and "_"; got ${JSON.stringify(name)}`
  }
  return undefined
}

/**
 * What is wrong with `id` as the SPIFFE ID of a workload (`spiffe://<trust domain>/<path>`,
 * the path not empty), or `undefined` if it is valid.
 */
export function workloadSpiffeIdProblem(id: string): string | undefined {
  const quoted = JSON.stringify(id)
  if (!id.startsWith('spiffe://')) return `must start with "spiffe://"; got ${quoted}`
  if (id.length > MAX_SPIFFE_ID_LENGTH) return `must be at most ${MAX_SPIFFE_ID_LENGTH} characters`
  const rest = id.slice('spiffe://'.length)
  const slash = rest.indexOf('/')
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash)
  const domainProblem = trustDomainProblem(trustDomain)
  if (domainProblem !== undefined) return `has an invalid trust domain: it ${domainProblem}`
  if (slash === -1 || slash === rest.length - 1) {
    return `must have a path after the trust domain, e.g. "spiffe://${trustDomain}/admin"; got ${quoted}`
  }
  for (const segment of rest.slice(slash + 1).split('/')) {
    if (segment === '') return `must not contain empty path segments ("//" or a trailing "/"); got ${quoted}`
    if (segment === '.' || segment === '..')
      return `must not contain "." or ".." path segments; got ${quoted}`
    if (!PATH_SEGMENT_CHARACTERS.test(segment)) {
      return `path segments may contain only letters, digits, ".", "-" and "_"; got ${quoted}`
    }
  }
  return undefined
}

/** The trust domain of a SPIFFE ID that {@link workloadSpiffeIdProblem} accepted. */
export function trustDomainOf(id: string): string {
  const rest = id.slice('spiffe://'.length)
  const slash = rest.indexOf('/')
  return slash === -1 ? rest : rest.slice(0, slash)
}
