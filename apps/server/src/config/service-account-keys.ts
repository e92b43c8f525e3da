import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { describeFileError } from '@k8s-attest/spire-config'

/**
 * The PEM block types accepted in a k8s_sat `service_account_key_file`, as SPIRE accepts them:
 * the API server's `--service-account-key-file` may be a certificate, a PKIX public key or a
 * PKCS#1 RSA public key, and one file may hold several (key rotation).
 */
const ACCEPTED_BLOCK_TYPES = ['CERTIFICATE', 'PUBLIC KEY', 'RSA PUBLIC KEY'] as const
const ACCEPTED_KEY_TYPES = new Set(['rsa', 'ec'])

/** What {@link loadServiceAccountKeys} found: the keys, and what was wrong, if anything. */
export interface ServiceAccountKeysResult {
  readonly keys: readonly KeyObject[]
  /** Each problem as text naming the block (`PEM block 2 …`); empty when the file is usable. */
  readonly problems: readonly string[]
}

/**
 * Reads the public keys that verify a cluster's service account tokens locally.
 *
 * Unlike SPIRE, which skips PEM blocks of other types, a block of another type is a problem
 * here: the likeliest one is `PRIVATE KEY`, i.e. the file next to the one meant, and
 * accepting it silently would hide that a private key is being spread around.
 */
export async function loadServiceAccountKeys(path: string): Promise<ServiceAccountKeysResult> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return { keys: [], problems: [`cannot read ${JSON.stringify(path)}: ${describeFileError(error)}`] }
  }
  const keys: KeyObject[] = []
  const problems: string[] = []
  const blocks = [...text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)]
  if (blocks.length === 0) {
    problems.push(`${JSON.stringify(path)} holds no PEM block; expected ${ACCEPTED_BLOCK_TYPES.join(', ')}`)
  }
  blocks.forEach((block, index) => {
    const label = `PEM block ${index + 1} (${block[1]}) of ${JSON.stringify(path)}`
    const result = decodeKeyBlock(block[1] ?? '', block[2] ?? '')
    if (typeof result === 'string') problems.push(`${label} ${result}`)
    else keys.push(result)
  })
  return { keys, problems }
}

/** The public key in one PEM block, or what is wrong with the block. */
function decodeKeyBlock(type: string, body: string): KeyObject | string {
  const base64 = body.replace(/\s+/g, '')
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) return 'is not valid base64'
  const der = Buffer.from(base64, 'base64')
  let key: KeyObject
  try {
    if (type === 'CERTIFICATE') key = new X509Certificate(der).publicKey
    else if (type === 'PUBLIC KEY') key = createPublicKey({ key: der, format: 'der', type: 'spki' })
    else if (type === 'RSA PUBLIC KEY') key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' })
    else return `is not accepted; expected ${ACCEPTED_BLOCK_TYPES.join(', ')}`
  } catch (error) {
    return `cannot be decoded: ${error instanceof Error ? error.message : String(error)}`
  }
  if (!ACCEPTED_KEY_TYPES.has(key.asymmetricKeyType ?? '')) {
    return `holds a ${key.asymmetricKeyType ?? 'unknown'} key; expected an RSA or EC public key`
  }
  return key
}
