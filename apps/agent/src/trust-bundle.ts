import { X509Certificate } from 'node:crypto'
import { AgentError } from './errors.ts'

/**
 * The X.509 authorities the agent trusts for its trust domain: the roots the server's serving
 * certificate and every SVID must chain to. Kept as PEM (what TLS options and `bundle.pem` take)
 * and parsed (what chain verification takes), both in the same order.
 */
export interface TrustBundle {
  readonly authoritiesPem: readonly string[]
  readonly authorities: readonly X509Certificate[]
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g

/**
 * Parses a PEM trust bundle (the `trust_bundle_format = "pem"` of SPIRE, and `bundle.pem` in
 * data_dir). Text between blocks is ignored (bundles often carry comments), but every block
 * must be a `CERTIFICATE` of a certificate authority: a private key or a leaf certificate in a
 * trust bundle is a mistake worth stopping for.
 *
 * @param source Where the text came from (a path or URL), for messages.
 * @throws {AgentError} `ATT_ERR_TRUST_BUNDLE_INVALID` naming the block that failed.
 */
export function trustBundleFromPem(text: string, source: string): TrustBundle {
  const pems: string[] = []
  for (const block of text.matchAll(PEM_BLOCK)) {
    if (block[1] !== 'CERTIFICATE') {
      throw bundleInvalid(
        source,
        `block ${pems.length + 1} is a ${JSON.stringify(block[1])} block; expected only CERTIFICATE blocks`,
        'pem_block_type',
      )
    }
    pems.push(block[0])
  }
  return trustBundleFromCertificates(pems, source)
}

/**
 * Parses a SPIFFE bundle in its JWKS form (SPIFFE Trust Domain and Bundle specification, §4):
 * the keys whose `use` is `"x509-svid"` carry one DER certificate each in `x5c`. Keys for other
 * uses (`"jwt-svid"`) are skipped: this agent verifies X.509 only.
 *
 * @throws {AgentError} `ATT_ERR_TRUST_BUNDLE_INVALID` when the text is not such a document.
 */
export function trustBundleFromSpiffeJson(text: string, source: string): TrustBundle {
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    throw bundleInvalid(source, 'is not JSON; expected a SPIFFE bundle (JWKS)', 'spiffe_bundle_json', error)
  }
  const keys = (document as { keys?: unknown } | null)?.keys
  if (!Array.isArray(keys)) {
    throw bundleInvalid(source, 'has no "keys" array; expected a SPIFFE bundle (JWKS)', 'spiffe_bundle_keys')
  }
  const pems: string[] = []
  keys.forEach((key: unknown, index) => {
    const { use, x5c } = (key ?? {}) as { use?: unknown; x5c?: unknown }
    if (use !== 'x509-svid') return
    const der = Array.isArray(x5c) && x5c.length === 1 ? x5c[0] : undefined
    if (typeof der !== 'string' || der === '') {
      throw bundleInvalid(source, `keys[${index}] has no single x5c certificate`, 'spiffe_bundle_x5c')
    }
    pems.push(derBase64ToPem(der))
  })
  return trustBundleFromCertificates(pems, source)
}

/**
 * Builds a bundle from PEM certificates, one per string (as the server's SVID response
 * carries them), checking each parses and is a CA certificate.
 *
 * @throws {AgentError} `ATT_ERR_TRUST_BUNDLE_INVALID`; an empty list is refused too.
 */
export function trustBundleFromCertificates(pems: readonly string[], source: string): TrustBundle {
  if (pems.length === 0) {
    throw bundleInvalid(
      source,
      'holds no X.509 authority; expected at least one CA certificate',
      'bundle_empty',
    )
  }
  const authorities = pems.map((pem, index) => {
    let certificate: X509Certificate
    try {
      certificate = new X509Certificate(pem)
    } catch (error) {
      throw bundleInvalid(source, `certificate ${index + 1} cannot be parsed`, 'certificate_parse', error)
    }
    if (!certificate.ca) {
      throw bundleInvalid(
        source,
        `certificate ${index + 1} (subject ${JSON.stringify(certificate.subject)}) is not a CA certificate; ` +
          'a trust bundle holds only authorities',
        'certificate_is_ca',
      )
    }
    return certificate
  })
  return { authoritiesPem: authorities.map((certificate) => certificate.toString()), authorities }
}

/** The bundle as one PEM text, the format of `bundle.pem` in data_dir. */
export function trustBundleToPem(bundle: TrustBundle): string {
  return bundle.authoritiesPem.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('')
}

/** The authorities of `held`, then those of `added` it lacks: a held bundle widened by a re-read bootstrap. */
export function widenTrustBundle(held: TrustBundle, added: TrustBundle): TrustBundle {
  const extra = added.authorities
    .map((certificate, index) => ({ certificate, pem: added.authoritiesPem[index] as string }))
    .filter(({ certificate }) => !held.authorities.some((known) => known.raw.equals(certificate.raw)))
  return {
    authoritiesPem: [...held.authoritiesPem, ...extra.map(({ pem }) => pem)],
    authorities: [...held.authorities, ...extra.map(({ certificate }) => certificate)],
  }
}

/** Whether two bundles hold the same authorities in the same order. */
export function sameTrustBundle(a: TrustBundle, b: TrustBundle): boolean {
  return (
    a.authorities.length === b.authorities.length &&
    a.authorities.every((certificate, index) =>
      certificate.raw.equals(b.authorities[index]?.raw ?? Buffer.alloc(0)),
    )
  )
}

function derBase64ToPem(base64: string): string {
  const lines = base64.replace(/\s+/g, '').match(/.{1,64}/g) ?? []
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
}

function bundleInvalid(source: string, problem: string, check: string, cause?: unknown): AgentError {
  return new AgentError('ATT_ERR_TRUST_BUNDLE_INVALID', `trust bundle ${JSON.stringify(source)} ${problem}`, {
    check,
    value: source,
    ...(cause === undefined ? {} : { cause }),
  })
}
