import 'reflect-metadata'
import { isAttestError, parseSpiffeId, type SpiffeId, serverSpiffeId } from '@k8s-attest/core'
import { X509Certificate as ParsedCertificate, SubjectAlternativeNameExtension } from '@peculiar/x509'

/**
 * The agent's view of SPIFFE IDs in certificates. Parsing the IDs themselves is core's
 * (`parseSpiffeId`); this module only finds them in certificates and states the agent's
 * expectations: the server is `spiffe://<td>/spire/server`, an SVID is one ID of our trust domain.
 */

/** The SPIFFE ID the server's serving certificate must carry: `spiffe://<trustDomain>/spire/server`. */
export function expectedServerId(trustDomain: string): string {
  return serverSpiffeId(trustDomain)
}

/**
 * The URI subject alternative names of a DER certificate, exactly as encoded. Read with an
 * ASN.1 parser rather than from Node's `subjectAltName` text, whose comma-separated form would
 * have to be unescaped to be trusted.
 */
export function uriSansOf(der: Uint8Array): string[] {
  const certificate = new ParsedCertificate(new Uint8Array(der))
  const extension = certificate.getExtension(SubjectAlternativeNameExtension)
  if (extension === null) return []
  return extension.names.items.filter((name) => name.type === 'url').map((name) => name.value)
}

/** The outcome of {@link spiffeIdOfSvid}. */
export type SvidIdResult =
  | { readonly ok: true; readonly id: SpiffeId }
  | { readonly ok: false; readonly problem: string; readonly value: string }

/**
 * The SPIFFE ID of an X.509 SVID, checked as the X509-SVID standard (§2) asks: exactly one
 * URI SAN, a valid SPIFFE ID, here additionally of `trustDomain` and with a non-empty path
 * (an SVID never names the trust domain itself).
 */
export function spiffeIdOfSvid(der: Uint8Array, trustDomain: string): SvidIdResult {
  let uris: string[]
  try {
    uris = uriSansOf(der)
  } catch (error) {
    // OpenSSL parses extensions lazily, so a certificate node:crypto accepts may still carry a
    // SAN extension that is not valid DER. Such an SVID is refused like any other bad one: a
    // corrupt file in data_dir, or a bad answer, must not end the agent.
    const reason = error instanceof Error ? error.message : String(error)
    return {
      ok: false,
      problem: `has a subject alternative name extension that cannot be parsed (${reason})`,
      value: '',
    }
  }
  if (uris.length !== 1) {
    return {
      ok: false,
      problem: `has ${uris.length} URI SANs; an X509-SVID has exactly one`,
      value: uris.join(', '),
    }
  }
  const uri = uris[0] ?? ''
  let id: SpiffeId
  try {
    id = parseSpiffeId(uri)
  } catch (error) {
    if (!isAttestError(error)) throw error
    return { ok: false, problem: `has a URI SAN that is not a valid SPIFFE ID: ${error.message}`, value: uri }
  }
  if (id.trustDomain !== trustDomain) {
    return {
      ok: false,
      problem: `names trust domain ${JSON.stringify(id.trustDomain)}, not ours`,
      value: uri,
    }
  }
  if (id.path === '') return { ok: false, problem: 'names the trust domain itself, not an agent', value: uri }
  return { ok: true, id }
}
