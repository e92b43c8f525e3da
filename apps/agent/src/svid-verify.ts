import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { canonicalSerialNumber } from '@k8s-attest/core'
import { AgentError } from './errors.ts'
import { spiffeIdOfSvid } from './spiffe.ts'
import type { TrustBundle } from './trust-bundle.ts'

/**
 * An X.509 SVID the agent holds: verified, with the private key it certifies. Produced only by
 * {@link verifySvid}, so holding one means every check below has passed.
 */
export interface HeldSvid {
  /** The SPIFFE ID in the leaf's URI SAN, e.g. `spiffe://example.org/spire/agent/k8s_psat/demo/<node uid>`. */
  readonly spiffeId: string
  /** The chain as PEM, leaf first (what TLS `cert` takes and `agent-svid.pem` stores). */
  readonly chainPem: readonly string[]
  /** The leaf certificate. */
  readonly leaf: X509Certificate
  /** The private key the leaf certifies. */
  readonly privateKey: KeyObject
  /** The leaf's serial number, hex, as the server's admin API shows it. */
  readonly serialNumber: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/**
 * How far the server's clock may run ahead of ours. An SVID minted "now" by a server whose
 * clock is a few seconds ahead is otherwise not yet valid here, and a freshly attested agent
 * would throw it away.
 */
export const CLOCK_SKEW_TOLERANCE_MS = 60_000

/** Input of {@link verifySvid}. */
export interface VerifySvidInput {
  /** The chain as received or stored: PEM certificates, leaf first. */
  readonly chainPem: readonly string[]
  /** The key generated for this SVID. */
  readonly privateKey: KeyObject
  /** The authorities the chain must end at. */
  readonly bundle: TrustBundle
  /** The agent's trust domain; the SVID's ID must belong to it. */
  readonly trustDomain: string
  /** The instant of the check, in milliseconds since the epoch (injected clock). */
  readonly now: number
  /** The ID the server said it issued (`SvidResponse.spiffe_id`); the certificate must agree. */
  readonly expectedSpiffeId?: string
  /**
   * Accept certificates whose `notBefore` is still ahead of `now` (the issuer's clock runs
   * ahead of ours; expiry is still checked). For a k8s_sat agent: its single-use token bought
   * the SVID, so refusing it would leave the agent nothing to attest with again.
   */
  readonly acceptNotYetValid?: boolean
}

/**
 * Verifies an X.509 SVID before the agent uses or stores it:
 *
 * 1. every certificate parses (`svid_parse`);
 * 2. the leaf is not a CA (`svid_leaf_not_ca`);
 * 3. the leaf has exactly one URI SAN, a valid SPIFFE ID of our trust domain (`svid_spiffe_id`),
 *    equal to the ID the server announced (`svid_spiffe_id_matches_response`);
 * 4. the leaf certifies our public key (`svid_public_key`): a server, or anyone in between,
 *    cannot hand us a certificate for a key we do not hold;
 * 5. every certificate is within its validity period at `now` (`svid_validity`), allowing
 *    {@link CLOCK_SKEW_TOLERANCE_MS} on `notBefore` (any `notBefore`, with `acceptNotYetValid`);
 * 6. the chain, through its intermediates, is signed by an authority of the bundle (`svid_chain`).
 *
 * @throws {AgentError} `ATT_ERR_SVID_VERIFICATION_FAILED` with `details.check` naming the step.
 */
export function verifySvid(input: VerifySvidInput): HeldSvid {
  const { chainPem, privateKey, bundle, trustDomain, now } = input
  const notYetValid = input.acceptNotYetValid === true
  if (chainPem.length === 0) throw failed('svid_parse', 'the SVID chain is empty')
  const chain = chainPem.map((pem, index) => {
    try {
      return new X509Certificate(pem)
    } catch (error) {
      throw failed('svid_parse', `certificate ${index + 1} of the SVID chain cannot be parsed`, {}, error)
    }
  })
  const leaf = chain[0] as X509Certificate

  if (leaf.ca)
    throw failed('svid_leaf_not_ca', 'the SVID leaf is a CA certificate; an X509-SVID leaf must not be')

  const id = spiffeIdOfSvid(leaf.raw, trustDomain)
  if (!id.ok) {
    throw failed('svid_spiffe_id', `the SVID ${id.problem}`, {
      value: id.value,
      expected: `one URI SAN spiffe://${trustDomain}/…`,
    })
  }
  const spiffeId = id.id.uri
  if (input.expectedSpiffeId !== undefined && input.expectedSpiffeId !== spiffeId) {
    throw failed(
      'svid_spiffe_id_matches_response',
      `the SVID certifies ${JSON.stringify(spiffeId)} but the server announced ${JSON.stringify(input.expectedSpiffeId)}`,
      { value: spiffeId, expected: input.expectedSpiffeId },
    )
  }

  const ours = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
  if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(ours)) {
    throw failed('svid_public_key', 'the SVID certifies a public key other than the one this agent generated')
  }

  for (const [index, certificate] of chain.entries()) {
    const problem = validityProblem(certificate, now, notYetValid)
    if (problem !== undefined) {
      throw failed('svid_validity', `certificate ${index + 1} of the SVID chain ${problem}`, {
        value: `${certificate.validFromDate.toISOString()}..${certificate.validToDate.toISOString()}`,
        expected: `valid at ${new Date(now).toISOString()}`,
      })
    }
  }

  if (!chainsToBundle(chain, bundle, now, notYetValid)) {
    throw failed(
      'svid_chain',
      `the SVID (issuer ${JSON.stringify(leaf.issuer)}) does not chain to any of the ${bundle.authorities.length} authorities of the trust bundle`,
      { value: leaf.issuer, expected: bundle.authorities.map((authority) => authority.subject).join('; ') },
    )
  }

  return {
    spiffeId,
    chainPem: chain.map((certificate) => certificate.toString()),
    leaf,
    privateKey,
    serialNumber: canonicalSerialNumber(leaf.serialNumber),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
  }
}

/** Why `certificate` is not valid at `now`, or `undefined` when it is. */
function validityProblem(
  certificate: X509Certificate,
  now: number,
  acceptNotYetValid: boolean,
): string | undefined {
  if (!acceptNotYetValid && certificate.validFromDate.getTime() - CLOCK_SKEW_TOLERANCE_MS > now) {
    return `is not valid before ${certificate.validFromDate.toISOString()}`
  }
  if (certificate.validToDate.getTime() <= now) return `expired at ${certificate.validToDate.toISOString()}`
  return undefined
}

/**
 * Walks the chain from the leaf: each certificate must be issued and signed by the next
 * (which must be a CA), and the walk succeeds as soon as a certificate is issued and signed by
 * a bundle authority that is valid at `now`. Intermediates past that point are not needed.
 */
function chainsToBundle(
  chain: readonly X509Certificate[],
  bundle: TrustBundle,
  now: number,
  acceptNotYetValid: boolean,
): boolean {
  for (const [index, certificate] of chain.entries()) {
    const anchored = bundle.authorities.some(
      (authority) =>
        validityProblem(authority, now, acceptNotYetValid) === undefined && signedBy(certificate, authority),
    )
    if (anchored) return true
    const issuer = chain[index + 1]
    if (issuer === undefined || !issuer.ca || !signedBy(certificate, issuer)) return false
  }
  return false
}

function signedBy(certificate: X509Certificate, issuer: X509Certificate): boolean {
  return certificate.checkIssued(issuer) && certificate.verify(issuer.publicKey)
}

function failed(
  check: string,
  message: string,
  details: { readonly value?: string; readonly expected?: string } = {},
  cause?: unknown,
): AgentError {
  return new AgentError('ATT_ERR_SVID_VERIFICATION_FAILED', message, {
    check,
    ...details,
    ...(cause === undefined ? {} : { cause }),
  })
}
