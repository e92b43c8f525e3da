import { AttestError, type SvidResponse } from '@k8s-attest/core'
import { CsrError } from '../ca/ca-errors.ts'
import type { IssuedCertificate } from '../ca/leaf-certificate.ts'
import type { TrustBundle } from '../ca/spiffe-bundle.ts'
import type { AttestedAgent } from './attested-agent.ts'

/** The part of the CA that issues agent SVIDs (`CertificateAuthority` fits; tests may fake it). */
export interface SvidSigner {
  signAgentCsr(csr: string, spiffeId: string): Promise<IssuedCertificate>
  bundle(): TrustBundle
}

/**
 * Signs the agent's CSR for `spiffeId`. The CA verifies the CSR's signature and certifies its
 * public key only: whatever names the CSR asks for, the SVID names the minted ID alone.
 *
 * @throws {AttestError} `ATT_ERR_CSR_INVALID` with the CA's check (`size`, `encoding`,
 *   `public-key`, `signature`) and what it expected.
 */
export async function issueSvid(
  signer: SvidSigner,
  csr: string,
  spiffeId: string,
  cluster: string,
): Promise<IssuedCertificate> {
  try {
    return await signer.signAgentCsr(csr, spiffeId)
  } catch (error) {
    if (error instanceof CsrError) {
      throw new AttestError('ATT_ERR_CSR_INVALID', `the CSR was refused: ${error.message}`, {
        check: `csr_${error.check.replace('-', '_')}`,
        cluster,
        expected: error.expected,
        cause: error,
      })
    }
    throw error
  }
}

/** The wire answer for an issued SVID: chain (leaf first), bundle, selectors, expiry. */
export function svidResponse(
  agent: Pick<AttestedAgent, 'spiffeId' | 'selectors' | 'reattestable'>,
  issued: IssuedCertificate,
  bundle: TrustBundle,
): SvidResponse {
  return {
    spiffe_id: agent.spiffeId,
    svid: splitPem(issued.chainPem),
    bundle: [...bundle.certificatesPem],
    selectors: agent.selectors.map(({ type, value }) => ({ type, value })),
    expires_at: issued.notAfter.toISOString(),
    reattestable: agent.reattestable,
  }
}

/** Each certificate of a PEM chain, as its own PEM string. */
function splitPem(chainPem: string): string[] {
  return chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}
