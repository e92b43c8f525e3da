import { parseSpiffeId } from '@k8s-attest/core'
import { CaStoreError } from '../ca/ca-errors.ts'
import { CaStore } from '../ca/ca-store.ts'
import { CertificateAuthority } from '../ca/certificate-authority.ts'
import { x509 } from '../ca/x509.ts'
import type { ServerConfig } from '../config/server-config.ts'

/** Code of {@link MintRefusal}. */
export const ATT_ERR_CLI_MINT_REFUSED = 'ATT_ERR_CLI_MINT_REFUSED'

/** Which check refused to mint, in the order they run. */
export type MintCheck = 'admin_ids' | 'trust_domain' | 'ca_present'

/**
 * `x509 mint` refused: the SPIFFE ID is not an admin ID this server's CA can sign for, or
 * `data_dir` holds no CA. `check` names the check that failed.
 */
export class MintRefusal extends Error {
  override readonly name = 'MintRefusal'
  readonly code = ATT_ERR_CLI_MINT_REFUSED
  readonly check: MintCheck

  constructor(check: MintCheck, message: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.check = check
  }
}

/** What to mint. */
export interface MintAdminSvidOptions {
  /** Must be one of `server.admin.admin_ids`, in the server's trust domain. */
  readonly spiffeId: string
  /** Requested lifetime; cut at the signing CA's expiry. Default `agent_ttl`. */
  readonly ttlMs?: number
  /** The CA's clock. Default the wall clock; tests inject one. */
  readonly now?: () => Date
}

/** A minted admin X.509 SVID, PEM, in the three files SPIRE's `x509 mint -write` writes. */
export interface MintedSvid {
  /** The leaf and its intermediates, none while the CA is a root (`svid.pem`); the root is in `bundlePem`. */
  readonly svidPem: string
  /** The new private key, PKCS#8 (`key.pem`). Never log it. */
  readonly keyPem: string
  /** Every CA certificate the server trusts (`bundle.pem`). */
  readonly bundlePem: string
  readonly notAfter: Date
  /** The lifetime was cut short by the signing CA's expiry. */
  readonly capped: boolean
}

/** The admin SVID's key: EC P-256, as SPIRE's `x509 mint` and the CA itself use. */
const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const
const CSR_SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const

/**
 * Mints an X.509 SVID for one of the configuration's `admin_ids`, offline: it opens the CA in
 * `config.dataDir` directly rather than asking a running server, generates a fresh EC P-256
 * key, and signs a CSR for it through {@link CertificateAuthority.signAgentCsr}, so the SVID
 * has the one profile every SVID of this CA has (URI SAN only, clientAuth + serverAuth).
 *
 * Why no further authentication: whoever can read the CA key files under `data_dir` is already
 * fully trusted (they could sign any certificate themselves). The admin_ids check is not a
 * security boundary against them; it keeps the tool from being misused to mint agent or server
 * identities by mistake, which would bypass attestation and its records.
 *
 * Opening the CA applies any rotation that is due, as the server does; sharing `data_dir` with
 * a running server is safe (see {@link CertificateAuthority}).
 *
 * @throws {MintRefusal} `ATT_ERR_CLI_MINT_REFUSED` when the ID is not an admin ID
 *   (`admin_ids`), not in the server's trust domain (`trust_domain`), or `data_dir` holds no
 *   CA yet (`ca_present`): minting never creates a CA, which a misconfigured `data_dir` would
 *   otherwise silently do.
 * @throws {CaStoreError} `ATT_ERR_CA_STORE_INVALID` when the CA files cannot be used.
 */
export async function mintAdminSvid(
  config: ServerConfig,
  options: MintAdminSvidOptions,
): Promise<MintedSvid> {
  const { spiffeId } = options
  checkAdminId(config, spiffeId)
  await checkCaPresent(config.dataDir)

  const now = options.now ?? (() => new Date())
  const ca = await CertificateAuthority.open({
    dataDir: config.dataDir,
    trustDomain: config.trustDomain,
    caTtlMs: config.caTtlMs,
    agentTtlMs: config.agentTtlMs,
    now,
  })
  const keys = await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])
  // The CA certifies only the CSR's key and names spiffeId itself; the CSR asks for the same
  // URI SAN anyway, as SPIRE's does, so it reads right on its own.
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: 'O=k8s-attest',
    keys,
    signingAlgorithm: CSR_SIGNING_ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: spiffeId }])],
  })
  const ttlMs = options.ttlMs ?? config.agentTtlMs
  const requestedAt = now().getTime()
  const issued = await ca.signAgentCsr(csr.toString('pem'), spiffeId, { ttlMs })
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
  return {
    svidPem: issued.chainPem,
    keyPem: withFinalNewline(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')),
    bundlePem: ca.bundle().pem,
    notAfter: issued.notAfter,
    // X.509 times have whole seconds: an uncut lifetime ends at least at this second.
    capped: issued.notAfter.getTime() < Math.floor((requestedAt + ttlMs) / 1000) * 1000,
  }
}

function checkAdminId(config: ServerConfig, spiffeId: string): void {
  const adminIds = config.admin?.adminIds ?? []
  if (!adminIds.includes(spiffeId)) {
    const allowed =
      adminIds.length === 0
        ? `it sets none${config.admin === undefined ? ' (no server.admin block)' : ''}`
        : `allowed: ${adminIds.map((id) => JSON.stringify(id)).join(', ')}`
    throw new MintRefusal(
      'admin_ids',
      `SPIFFE ID ${JSON.stringify(spiffeId)} is not one of server.admin.admin_ids in ${config.configFile} (${allowed}); x509 mint issues admin SVIDs only, never agent or server identities`,
    )
  }
  // admin_ids were checked to be SPIFFE IDs when the configuration was loaded.
  const { trustDomain } = parseSpiffeId(spiffeId)
  if (trustDomain !== config.trustDomain) {
    throw new MintRefusal(
      'trust_domain',
      `SPIFFE ID ${JSON.stringify(spiffeId)} is in trust domain ${JSON.stringify(trustDomain)}, but this server's CA signs for ${JSON.stringify(config.trustDomain)} only; an admin of another trust domain needs an SVID from that trust domain`,
    )
  }
}

async function checkCaPresent(dataDir: string): Promise<void> {
  const store = new CaStore(dataDir)
  let stored: Awaited<ReturnType<CaStore['readAll']>>
  try {
    stored = await store.readAll()
  } catch (error) {
    const missing =
      error instanceof CaStoreError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
    if (!missing) throw error
    stored = new Map()
  }
  if (![...stored.values()].some((files) => files.keyPem !== undefined)) {
    throw new MintRefusal(
      'ca_present',
      `no CA key in ${store.directory}: start the server with this configuration once (it creates the CA), or check data_dir`,
    )
  }
}

function withFinalNewline(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`
}
