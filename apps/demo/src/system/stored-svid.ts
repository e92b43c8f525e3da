import { X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { canonicalSerialNumber } from '@k8s-attest/core'

/**
 * The file in the agent's data_dir holding its SVID chain (leaf first) and private key: the
 * agent's on-disk contract (apps/agent/conf/agent.conf documents it), read here from outside,
 * as an operator or a probe would.
 */
export const AGENT_SVID_FILE = 'agent-svid.pem'

/** The public facts of the SVID an agent keeps in its data_dir (never its key). */
export interface StoredSvid {
  readonly spiffeId: string
  /** Lowercase hex without leading zeros: the form the server's admin API shows. */
  readonly serialNumber: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/**
 * Reads the leaf certificate of the SVID stored in `dataDir`, or `undefined` when the agent has
 * not stored one yet. Does not verify it (the agent's `healthcheck` does that).
 *
 * @throws {Error} when the file exists but holds no certificate with exactly one SPIFFE ID.
 */
export async function readStoredSvid(dataDir: string): Promise<StoredSvid | undefined> {
  const path = join(dataDir, AGENT_SVID_FILE)
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  const leafPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0]
  if (leafPem === undefined) throw new Error(`${path} holds no certificate`)
  const leaf = new X509Certificate(leafPem)
  const uris = (leaf.subjectAltName ?? '')
    .split(', ')
    .filter((name) => name.startsWith('URI:spiffe://'))
    .map((name) => name.slice('URI:'.length))
  const [spiffeId] = uris
  if (spiffeId === undefined || uris.length !== 1) {
    throw new Error(`the certificate in ${path} names ${uris.length} SPIFFE IDs; an SVID names exactly one`)
  }
  return {
    spiffeId,
    serialNumber: canonicalSerialNumber(leaf.serialNumber),
    notBefore: leaf.validFromDate,
    notAfter: leaf.validToDate,
  }
}
