/**
 * SPIFFE IDs as the SPIFFE-ID standard defines them: `spiffe://<trust domain>/<path>`.
 *
 * The parser is hand-written rather than built on WHATWG `URL`, because `URL`
 * repairs what the standard forbids — it lowercases hosts, resolves `.` and
 * `..`, accepts ports and userinfo, and percent-encodes — so an ID that is not
 * valid could come out looking valid. Here every rejection names the rule it
 * broke in `details.check`.
 *
 * @see {@link https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md | SPIFFE-ID standard}
 */
import { AttestError } from './errors.ts'
import { describeType, quote } from './internal/quote.ts'
import { utf8ByteLength } from './internal/utf8.ts'

/** The only scheme a SPIFFE ID may have, with its `://` separator. */
export const SPIFFE_SCHEME_PREFIX = 'spiffe://'

/** Longest SPIFFE ID in bytes, scheme included (SPIFFE-ID standard §2.3). */
export const SPIFFE_ID_MAX_BYTES = 2048

/** Longest trust domain name in bytes: RFC 3986 caps a URI host at 255 (SPIFFE-ID standard §2.3). */
export const TRUST_DOMAIN_MAX_BYTES = 255

/** A parsed, valid SPIFFE ID. */
export interface SpiffeId {
  /** The trust domain name, e.g. `"example.org"`. */
  readonly trustDomain: string
  /** The path with its leading `/`, e.g. `"/spire/server"`; `""` for the ID of the trust domain itself. */
  readonly path: string
  /** The path's segments, e.g. `["spire", "server"]`; empty when {@link SpiffeId.path} is `""`. */
  readonly segments: readonly string[]
  /** The whole ID as a string, e.g. `"spiffe://example.org/spire/server"`. */
  readonly uri: string
}

/** Characters outside `[a-z0-9._-]`: not allowed in a trust domain name. */
const TRUST_DOMAIN_FORBIDDEN = /[^a-z0-9._-]/u
/** Characters outside `[A-Za-z0-9._-]`: not allowed in a path segment. */
const PATH_SEGMENT_FORBIDDEN = /[^A-Za-z0-9._-]/u

/**
 * Parses and validates a SPIFFE ID.
 *
 * Rules, each with its `details.check`: a string (`type`); at most 2048 bytes
 * (`length`); scheme exactly `spiffe://` (`scheme`); no query (`query`) or
 * fragment (`fragment`); no percent-encoding anywhere (`percent_encoding`); a
 * trust domain (`trust_domain_missing`) without userinfo (`userinfo`) or port
 * (`port`), made of `[a-z0-9._-]` (`trust_domain_characters`), at most 255 bytes
 * (`trust_domain_length`); path segments that are not empty
 * (`path_segment_empty`, which includes a trailing `/`), not `.` or `..`
 * (`path_segment_dot`), and made of `[A-Za-z0-9._-]` (`path_segment_characters`);
 * with `options.requirePath`, a path at all (`path_missing`).
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` naming the broken rule.
 * @see {@link https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md | SPIFFE-ID standard}
 * @example
 * ```ts
 * const id = parseSpiffeId('spiffe://example.org/spire/agent/k8s_psat/demo/733588a8')
 * id.trustDomain // "example.org"
 * id.segments    // ["spire", "agent", "k8s_psat", "demo", "733588a8"]
 * parseSpiffeId('spiffe://Example.org/x') // throws, details.check === "trust_domain_characters"
 * parseSpiffeId('spiffe://example.org', { requirePath: true }) // throws, details.check === "path_missing"
 * ```
 */
export function parseSpiffeId(input: string, options: ParseSpiffeIdOptions = {}): SpiffeId {
  if (typeof input !== 'string') {
    throw invalid('SPIFFE ID', input, {
      check: 'type',
      rule: `it must be a string (found ${describeType(input)})`,
    })
  }
  const fail = (check: string, rule: string): never => {
    throw invalid('SPIFFE ID', input, { check, rule })
  }
  // Checked before anything else walks the input, so an oversized value costs nothing.
  if (input.length > SPIFFE_ID_MAX_BYTES || utf8ByteLength(input) > SPIFFE_ID_MAX_BYTES) {
    return fail('length', `a SPIFFE ID may be at most ${SPIFFE_ID_MAX_BYTES} bytes long`)
  }
  if (!input.startsWith(SPIFFE_SCHEME_PREFIX)) {
    return fail('scheme', 'the scheme must be "spiffe" followed by "://" (lowercase)')
  }
  const rest = input.slice(SPIFFE_SCHEME_PREFIX.length)
  const delimiter = rest.search(/[?#]/)
  if (delimiter !== -1) {
    return rest[delimiter] === '?'
      ? fail('query', 'a SPIFFE ID must not have a query component ("?")')
      : fail('fragment', 'a SPIFFE ID must not have a fragment component ("#")')
  }
  if (rest.includes('%')) {
    return fail('percent_encoding', 'percent-encoded characters ("%") are not allowed in a SPIFFE ID')
  }
  const slash = rest.indexOf('/')
  const trustDomain = slash === -1 ? rest : rest.slice(0, slash)
  const path = slash === -1 ? '' : rest.slice(slash)
  if (trustDomain.includes('@')) {
    return fail('userinfo', 'the trust domain must not carry userinfo ("user@")')
  }
  if (trustDomain.includes(':')) {
    return fail('port', 'the trust domain must not carry a port (":")')
  }
  const domainProblem = findTrustDomainProblem(trustDomain)
  if (domainProblem) return fail(domainProblem.check, domainProblem.rule)

  const segments = path === '' ? [] : path.slice(1).split('/')
  for (const segment of segments) {
    const segmentProblem = findPathSegmentProblem(segment)
    if (segmentProblem) return fail(segmentProblem.check, segmentProblem.rule)
  }
  if (options.requirePath === true && path === '') {
    return fail(
      'path_missing',
      `it names the trust domain itself; a path is required, e.g. "${SPIFFE_SCHEME_PREFIX}${trustDomain}/workload"`,
    )
  }
  return { trustDomain, path, segments, uri: input }
}

/**
 * What is wrong with `id` as a SPIFFE ID (see {@link parseSpiffeId} for the
 * rules and options), as the message of the error {@link parseSpiffeId} would
 * throw, or `undefined` when it is valid. For code that collects problems
 * instead of stopping at the first one, such as a configuration loader.
 *
 * @example
 * ```ts
 * spiffeIdProblem('spiffe://example.org/admin') // undefined
 * spiffeIdProblem('spiffe://example.org', { requirePath: true })
 * // 'invalid SPIFFE ID "spiffe://example.org": it names the trust domain itself; a path is required, …'
 * ```
 */
export function spiffeIdProblem(id: string, options: ParseSpiffeIdOptions = {}): string | undefined {
  return problemOf(() => parseSpiffeId(id, options))
}

/**
 * Whether `input` is a valid SPIFFE ID (see {@link parseSpiffeId} for the rules).
 * For a reason, call {@link parseSpiffeId} instead.
 */
export function isSpiffeId(input: unknown): input is string {
  return typeof input === 'string' && spiffeIdProblem(input) === undefined
}

/**
 * What is wrong with `name` as a bare trust domain name (see
 * {@link parseTrustDomain}), as the message of the error
 * {@link parseTrustDomain} would throw, or `undefined` when it is valid.
 *
 * @example
 * ```ts
 * trustDomainProblem('example.org') // undefined
 * trustDomainProblem('Example.org')
 * // 'invalid trust domain "Example.org": the trust domain may contain only lowercase letters, … (found "E"; trust domains are lowercase)'
 * ```
 */
export function trustDomainProblem(name: string): string | undefined {
  return problemOf(() => parseTrustDomain(name))
}

/**
 * Validates a bare trust domain name such as `"example.org"` (no scheme): not
 * empty (`trust_domain_missing`), made of `[a-z0-9._-]`
 * (`trust_domain_characters`, which also rejects a port or userinfo here), at
 * most 255 bytes (`trust_domain_length`).
 *
 * @returns `trustDomain`, unchanged.
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` naming the broken rule.
 * @example
 * ```ts
 * parseTrustDomain('example.org') // "example.org"
 * parseTrustDomain('Example.org') // throws, details.check === "trust_domain_characters"
 * ```
 */
export function parseTrustDomain(trustDomain: string): string {
  const problem =
    typeof trustDomain === 'string'
      ? findTrustDomainProblem(trustDomain)
      : { check: 'type', rule: `it must be a string (found ${describeType(trustDomain)})` }
  if (problem) throw invalid('trust domain', trustDomain, problem)
  return trustDomain
}

/**
 * Checks that `segment` can be one segment of a SPIFFE ID path as it is — not
 * empty (`path_segment_empty`), not `.` or `..` (`path_segment_dot`), made of
 * `[A-Za-z0-9._-]` (`path_segment_characters`). Values that fail are refused,
 * never escaped: an escaped name would be a different identity than the one
 * an operator reads in the configuration.
 *
 * @param label What the segment is, for the message, e.g. `"cluster name"`.
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` naming the broken rule.
 */
export function assertPathSegment(segment: string, label = 'path segment'): void {
  const problem =
    typeof segment === 'string'
      ? findPathSegmentProblem(segment)
      : { check: 'type', rule: `it must be a string (found ${describeType(segment)})` }
  if (problem) throw invalid(label, segment, problem)
}

/**
 * Builds `spiffe://<trustDomain>/<segments joined by "/">` after validating
 * the trust domain and every segment as they are (nothing is escaped).
 *
 * @throws {AttestError} `ATT_ERR_SPIFFE_ID_INVALID` naming the broken rule;
 *   `length` when the result would exceed 2048 bytes.
 * @example
 * ```ts
 * formatSpiffeId('example.org', ['spire', 'server']) // "spiffe://example.org/spire/server"
 * ```
 */
export function formatSpiffeId(trustDomain: string, segments: readonly string[]): string {
  parseTrustDomain(trustDomain)
  for (const segment of segments) assertPathSegment(segment)
  const uri = `${SPIFFE_SCHEME_PREFIX}${trustDomain}${segments.map((segment) => `/${segment}`).join('')}`
  // Every character is ASCII by now, so the string length is the byte length.
  if (uri.length > SPIFFE_ID_MAX_BYTES) {
    throw new AttestError(
      'ATT_ERR_SPIFFE_ID_INVALID',
      `SPIFFE ID ${quote(uri)} would be ${uri.length} bytes long; at most ${SPIFFE_ID_MAX_BYTES} are allowed`,
      { check: 'length', value: uri.slice(0, 256), expected: `at most ${SPIFFE_ID_MAX_BYTES} bytes` },
    )
  }
  return uri
}

/** Options of {@link parseSpiffeId} and {@link spiffeIdProblem}. */
export interface ParseSpiffeIdOptions {
  /**
   * Refuse the ID of a trust domain itself (`spiffe://example.org`, empty
   * path), as for the ID of a workload, an agent or an admin. Default `false`:
   * the standard allows an empty path.
   */
  readonly requirePath?: boolean
}

/** The message of the `AttestError` that `validate` throws, or `undefined` when it returns. */
function problemOf(validate: () => unknown): string | undefined {
  try {
    validate()
    return undefined
  } catch (error) {
    if (error instanceof AttestError) return error.message
    throw error
  }
}

interface RuleViolation {
  readonly check: string
  readonly rule: string
}

/**
 * The error for `subject` (what was being validated) holding `value`, which
 * broke `violation`. The value goes into the message quoted and truncated, and
 * into `details.value` truncated, because IDs come from outside.
 */
function invalid(subject: string, value: unknown, violation: RuleViolation): AttestError {
  const shown = typeof value === 'string' ? ` ${quote(value)}` : ''
  return new AttestError('ATT_ERR_SPIFFE_ID_INVALID', `invalid ${subject}${shown}: ${violation.rule}`, {
    check: violation.check,
    ...(typeof value === 'string' ? { value: value.slice(0, 256) } : {}),
  })
}

function findTrustDomainProblem(trustDomain: string): RuleViolation | undefined {
  if (trustDomain === '') return { check: 'trust_domain_missing', rule: 'the trust domain is missing' }
  const forbidden = TRUST_DOMAIN_FORBIDDEN.exec(trustDomain)
  if (forbidden) {
    const found = forbidden[0]
    const hint = trustDomain.startsWith(SPIFFE_SCHEME_PREFIX)
      ? `; give the bare name without "${SPIFFE_SCHEME_PREFIX}"`
      : found >= 'A' && found <= 'Z'
        ? '; trust domains are lowercase'
        : ''
    return {
      check: 'trust_domain_characters',
      rule: `the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found ${quote(found)}${hint})`,
    }
  }
  // All ASCII by now: length in characters is length in bytes.
  if (trustDomain.length > TRUST_DOMAIN_MAX_BYTES) {
    return {
      check: 'trust_domain_length',
      rule: `the trust domain may be at most ${TRUST_DOMAIN_MAX_BYTES} bytes long (found ${trustDomain.length})`,
    }
  }
  return undefined
}

function findPathSegmentProblem(segment: string): RuleViolation | undefined {
  if (segment === '') {
    return {
      check: 'path_segment_empty',
      rule: 'a SPIFFE ID path segment must not be empty (no "//" and no trailing "/")',
    }
  }
  if (segment === '.' || segment === '..') {
    return { check: 'path_segment_dot', rule: 'a SPIFFE ID path segment must not be "." or ".."' }
  }
  const forbidden = PATH_SEGMENT_FORBIDDEN.exec(segment)
  if (forbidden) {
    return {
      check: 'path_segment_characters',
      rule: `a SPIFFE ID path segment may contain only letters, digits, ".", "-" and "_" (found ${quote(forbidden[0])})`,
    }
  }
  return undefined
}
