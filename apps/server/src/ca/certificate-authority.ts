import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto'
import {
  isAttestError,
  parseSpiffeId,
  type SpiffeId,
  serverSpiffeId,
  trustDomainProblem,
} from '@k8s-attest/core'
import { type AgentSvidTemplate, createAgentSvidTemplate, issueAgentSvid } from './agent-svid.ts'
import { CA_KEY_ALGORITHM, caCertificateProblem, createCaCertificate } from './ca-certificate.ts'
import { CaStoreError } from './ca-errors.ts'
import { CaStore } from './ca-store.ts'
import { type IssuedCertificate, issueLeafCertificate, type SigningCa } from './leaf-certificate.ts'
import { planRotation, type RotationPlan } from './rotation-schedule.ts'
import { buildTrustBundle, type TrustBundle } from './spiffe-bundle.ts'
import { verifyCsr } from './verify-csr.ts'
import { type WebCryptoKey, x509 } from './x509.ts'

/** Options of {@link CertificateAuthority.open}. */
export interface CertificateAuthorityOptions {
  /** `data_dir`; the CA lives in its `ca/` subdirectory, created if needed. */
  readonly dataDir: string
  /** The trust domain, e.g. `"example.org"`. Must match any CA already in `dataDir`. */
  readonly trustDomain: string
  /** Lifetime of each CA certificate (`ca_ttl`). */
  readonly caTtlMs: number
  /** Lifetime of agent SVIDs (`agent_ttl`), cut at the signing CA's expiry. */
  readonly agentTtlMs: number
  /** The clock. Default `() => new Date()`; tests inject one. */
  readonly now?: () => Date
  /**
   * Set in the workers of `server.workers`: this process then never writes `<data_dir>/ca/`.
   * Whenever the files need a change (no CA yet, a successor to prepare, a key to retire, an
   * expired CA to drop), it calls `maintain`, which must have the one process that owns the
   * directory (the primary, through {@link CertificateAuthority.reconcileNow}) apply it, and
   * then reads the directory again. So exactly one process creates and rotates CAs, and no two
   * ever prepare a successor each. Absent: this process maintains the directory itself.
   */
  readonly maintain?: () => Promise<void>
}

/**
 * What a call to {@link CertificateAuthority.rotateIfDue} changed — that call only: a rotation
 * run by a signature is reported to nobody.
 */
export interface RotationOutcome {
  /** Another CA signs from now on: reissue the serving certificate. */
  readonly signingCaChanged: boolean
  /** The set of trusted CA certificates changed: agents should fetch the bundle again. */
  readonly bundleChanged: boolean
}

/** Options of {@link CertificateAuthority.signAgentCsr}. */
export interface SignCsrOptions {
  /**
   * Lifetime of the certificate instead of `agent_ttl`, still cut at the signing CA's expiry.
   * Only operators choose it (`x509 mint -ttl`); attestation always uses `agent_ttl`.
   */
  readonly ttlMs?: number
}

/** The server's own TLS certificate and its key. */
export interface ServingCertificate extends IssuedCertificate {
  /** The private key, PKCS#8 PEM, for `https.createServer({ key })`. Never log it. */
  readonly privateKeyPem: string
}

/** Options of {@link CertificateAuthority.issueServingCertificate}. */
export interface ServingCertificateOptions {
  /** DNS SANs (`server.dns_names`). */
  readonly dnsNames: readonly string[]
  /** IP address SANs. Default `["127.0.0.1"]`. */
  readonly ipAddresses?: readonly string[]
}

interface LoadedCa {
  readonly id: string
  readonly certificate: x509.X509Certificate
  /** Absent for superseded CAs, which stay only to be trusted. */
  readonly privateKey: WebCryptoKey | undefined
  /** The same key for node:crypto (the agent SVID fast path signs with it). */
  readonly privateKeyObject: KeyObject | undefined
}

/** Bundle consumers should look again at most every 5 minutes (SPIRE's bundle endpoint default). */
const MAX_REFRESH_HINT_SECONDS = 300
/**
 * A prepared CA is published 1/3 of a lifetime before it signs; a hint of 1/12 of the lifetime
 * gives consumers four chances to see it in that window, even with a very short `ca_ttl`.
 */
const REFRESH_HINT_DIVISOR = 12
/** Plan, apply, plan again: creating one CA settles the plan, so two rounds suffice; three is a safety margin. */
const MAX_RECONCILE_ROUNDS = 3

/**
 * The server's certificate authority: an EC P-256 key and self-signed certificate per CA,
 * persisted under `<data_dir>/ca/` (see {@link CaStore}) and rotated on SPIRE's schedule (see
 * `rotation-schedule.ts`): a successor is prepared and published in the bundle at half of the
 * signing CA's lifetime and takes over when 1/6 is left; a superseded CA loses its key at once
 * and leaves the bundle when it expires.
 *
 * Rotation runs when the CA is opened, whenever {@link rotateIfDue} is called, and before each
 * signature, so a signature never uses a CA past its takeover time even if nobody calls
 * `rotateIfDue`. Call it on a timer anyway (e.g. every minute, or at
 * {@link nextRotationCheckAt}), then reissue the serving certificate
 * ({@link issueServingCertificate}, whose lifetime is the signing CA's remaining lifetime) when
 * {@link signingCertificatePem} is not the one that issued it. Its outcome alone cannot tell:
 * a signature may have run the rotation first.
 *
 * One server process per `data_dir` is the intended deployment. Several processes sharing one
 * stay safe (files are published without overwriting, and all agree on which CA signs); each
 * sees the others' changes at its own schedule points and, through {@link rotateIfDueOrChanged}
 * on the server's one-minute timers, within a minute. Racing processes may each prepare a
 * successor: harmless, one extra CA in the bundle. The workers of one server (`server.workers`)
 * do not race: they leave every change to the primary (see `maintain`).
 *
 * @example
 * ```ts
 * const ca = await CertificateAuthority.open({ dataDir, trustDomain, caTtlMs, agentTtlMs })
 * const serving = await ca.issueServingCertificate({ dnsNames: config.dnsNames })
 * const svid = await ca.signAgentCsr(csrPem, 'spiffe://example.org/spire/agent/k8s_psat/demo/1234')
 * ```
 */
export class CertificateAuthority {
  readonly trustDomain: string
  readonly #store: CaStore
  readonly #caTtlMs: number
  readonly #agentTtlMs: number
  readonly #now: () => Date
  #cas: readonly LoadedCa[] = []
  #signing: SigningCa | undefined
  /** The agent SVID profile pre-encoded for the signing CA (rebuilt when another CA signs). */
  #svidTemplate: AgentSvidTemplate | undefined
  #plan: RotationPlan | undefined
  #bundle: TrustBundle | undefined
  #pendingRotation: Promise<RotationOutcome> | undefined
  /** Whether the last reconcile threw: {@link rotateIfDueOrChanged} then tries again instead of waiting for the schedule. */
  #reconcileFailed = false
  readonly #maintain: (() => Promise<void>) | undefined

  private constructor(options: CertificateAuthorityOptions) {
    this.#maintain = options.maintain
    this.trustDomain = options.trustDomain
    this.#store = new CaStore(options.dataDir)
    this.#caTtlMs = options.caTtlMs
    this.#agentTtlMs = options.agentTtlMs
    this.#now = options.now ?? (() => new Date())
  }

  /**
   * Loads the CA from `dataDir`, creating it on first start, and applies any rotation that is
   * due. The same CA comes back across restarts.
   *
   * @throws {CaStoreError} `ATT_ERR_CA_STORE_INVALID` when a CA file cannot be read, a key does
   *   not match its certificate, or a CA belongs to another trust domain.
   * @throws {TypeError} for invalid options.
   */
  static async open(options: CertificateAuthorityOptions): Promise<CertificateAuthority> {
    const problem = trustDomainProblem(options.trustDomain)
    if (problem !== undefined) throw new TypeError(`trustDomain option: ${problem}`)
    for (const name of ['caTtlMs', 'agentTtlMs'] as const) {
      if (!Number.isFinite(options[name]) || options[name] <= 0) {
        throw new TypeError(`${name} must be a positive number of milliseconds; got ${options[name]}`)
      }
    }
    const authority = new CertificateAuthority(options)
    await authority.#store.prepare()
    await authority.#reconcile(authority.#now())
    return authority
  }

  /** The certificate of the CA that signs now, PEM. */
  get signingCertificatePem(): string {
    return this.#requireSigning().certificate.toString('pem')
  }

  /** When {@link rotateIfDue} will next have something to do. */
  get nextRotationCheckAt(): Date {
    return this.#plan?.nextReviewAt ?? this.#now()
  }

  /** The CA certificates agents must trust (the signing CA, its prepared successor, superseded CAs until they expire). */
  bundle(): TrustBundle {
    if (this.#bundle === undefined) throw new Error('CertificateAuthority used before open() completed')
    return this.#bundle
  }

  /**
   * Prepares a successor, hands signing over, retires and drops CAs as the schedule says. Cheap
   * when nothing is due (no disk access). Concurrent calls share one run.
   */
  async rotateIfDue(): Promise<RotationOutcome> {
    const now = this.#now()
    const next = this.#plan?.nextReviewAt
    if (next !== undefined && now < next) return { signingCaChanged: false, bundleChanged: false }
    this.#pendingRotation ??= this.#reconcile(now).finally(() => {
      this.#pendingRotation = undefined
    })
    return this.#pendingRotation
  }

  /**
   * {@link rotateIfDue}, and reads the directory again when its CA files are not the ones last
   * read: another process sharing `data_dir` prepared, retired or removed a CA (or an operator
   * did), which this process's own schedule would notice only at its next point — hours away,
   * while its bundle (served, and published by the k8sbundle notifier) went without the new CA.
   * After a reconcile that threw (an unreadable CA file, say) it tries again at each call, so
   * the failure is reported at each timer tick rather than once. One directory listing per
   * call: for the timers (the serving certificate's check, the notifier's), not for every
   * signature.
   */
  async rotateIfDueOrChanged(): Promise<RotationOutcome> {
    if (this.#reconcileFailed || (await this.#store.changedSinceRead())) return this.reconcileNow()
    return this.rotateIfDue()
  }

  /**
   * Reads the directory and applies whatever the schedule says now, due or not by this
   * process's own plan: the primary of `server.workers` runs it when a worker asks (see
   * {@link CertificateAuthorityOptions.maintain}). Concurrent calls share one run.
   */
  async reconcileNow(): Promise<RotationOutcome> {
    this.#pendingRotation ??= this.#reconcile(this.#now()).finally(() => {
      this.#pendingRotation = undefined
    })
    return this.#pendingRotation
  }

  /**
   * Issues an agent X.509 SVID for the key in `csr` (PKCS#10, PEM text or DER bytes).
   *
   * The CSR's signature is verified and only its public key is used: whatever subject, SANs or
   * extensions it asks for, the certificate names `spiffeId` alone. It is valid from 10 seconds
   * ago until `agent_ttl` (or `options.ttlMs`) from now or the signing CA's expiry, whichever is first, with
   * keyUsage digitalSignature + keyEncipherment + keyAgreement (critical) and extKeyUsage serverAuth +
   * clientAuth, as SPIRE's agent SVIDs.
   *
   * `k8s-attest-server x509 mint` signs admin SVIDs through the same path (with
   * `options.ttlMs`), so every X.509 SVID this CA issues has this one profile.
   *
   * @throws {CsrError} `ATT_ERR_CSR_INVALID` when the CSR is refused (see `verifyCsr`).
   * @throws {TypeError} when `spiffeId` is not a SPIFFE ID of this trust domain (a caller bug:
   *   the ID comes from the server, never from the agent), or `options.ttlMs` is not a
   *   positive number.
   */
  async signAgentCsr(
    csr: string | Uint8Array,
    spiffeId: string,
    options: SignCsrOptions = {},
  ): Promise<IssuedCertificate> {
    this.#checkOwnSpiffeId(spiffeId)
    const ttlMs = options.ttlMs ?? this.#agentTtlMs
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new TypeError(`ttlMs must be a positive number of milliseconds; got ${ttlMs}`)
    }
    const { subjectPublicKeyInfo } = await verifyCsr(csr)
    await this.rotateIfDue()
    this.#requireSigning()
    if (this.#svidTemplate === undefined) throw new Error('CertificateAuthority used before open() completed')
    return issueAgentSvid(this.#svidTemplate, { subjectPublicKeyInfo, spiffeId, ttlMs, now: this.#now() })
  }

  /**
   * Signs one throwaway SVID for a CSR of its own through the path an agent's CSR takes (the
   * CSR check, then the SVID template), and verifies the certificate with the signing CA's key.
   * The server runs it once before it listens: a CA that cannot issue fails at start rather than
   * at the first agent, and the first agent does not pay the CSR parser's and the signer's
   * first-use cost (about 4 of the 5 ms that issuance took for a first attestation here). Nothing
   * is recorded; the certificate names `spiffe://<trust domain>/k8s-attest/issuance-check`.
   *
   * @throws {CaStoreError} `ATT_ERR_CA_STORE_INVALID` when the certificate does not verify with
   *   the signing CA's key.
   */
  async checkIssuance(): Promise<void> {
    const keys = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=issuance-check',
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    })
    const { subjectPublicKeyInfo } = await verifyCsr(csr.toString('pem'))
    const signing = this.#requireSigning()
    if (this.#svidTemplate === undefined) throw new Error('CertificateAuthority used before open() completed')
    const issued = issueAgentSvid(this.#svidTemplate, {
      subjectPublicKeyInfo,
      spiffeId: `spiffe://${this.trustDomain}/k8s-attest/issuance-check`,
      ttlMs: 60_000,
      now: this.#now(),
    })
    const caKey = new X509Certificate(Buffer.from(signing.certificate.rawData)).publicKey
    if (!new X509Certificate(issued.certificatePem).verify(caKey)) {
      throw new CaStoreError(
        this.#store.directory,
        `the signing CA (serial ${signing.certificate.serialNumber}) signed an SVID that its own certificate's key does not verify`,
      )
    }
  }

  /**
   * Issues a new key and certificate for the server's own TLS listener: URI SAN
   * `spiffe://<td>/spire/server` (SPIRE's server ID, which agents check), the given DNS names
   * and IP addresses, extKeyUsage serverAuth. It is valid until the signing CA expires, and
   * must be reissued when another CA signs (the new CA takes over
   * while the old one still has 1/6 of its lifetime, so the old certificate never lapses in
   * between). Issue one on every start.
   */
  async issueServingCertificate(options: ServingCertificateOptions): Promise<ServingCertificate> {
    await this.rotateIfDue()
    const signing = this.#requireSigning()
    const keys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify'])
    const issued = await issueLeafCertificate(signing, {
      publicKey: keys.publicKey,
      spiffeId: serverSpiffeId(this.trustDomain),
      dnsNames: options.dnsNames,
      ipAddresses: options.ipAddresses ?? ['127.0.0.1'],
      keyUsages: x509.KeyUsageFlags.digitalSignature,
      extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
      ttlMs: signing.certificate.notAfter.getTime() - this.#now().getTime(),
      now: this.#now(),
    })
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
    return { ...issued, privateKeyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') }
  }

  #checkOwnSpiffeId(spiffeId: string): void {
    let id: SpiffeId
    try {
      id = parseSpiffeId(spiffeId, { requirePath: true })
    } catch (error) {
      if (!isAttestError(error)) throw error
      throw new TypeError(`spiffeId: ${error.message}`, { cause: error })
    }
    if (id.trustDomain !== this.trustDomain) {
      throw new TypeError(
        `spiffeId ${JSON.stringify(spiffeId)} is not in this CA's trust domain ${JSON.stringify(this.trustDomain)}`,
      )
    }
  }

  #requireSigning(): SigningCa {
    if (this.#signing === undefined) throw new Error('CertificateAuthority used before open() completed')
    return this.#signing
  }

  /** Brings the files on disk and the in-memory state in line with the schedule at `now`. */
  async #reconcile(now: Date): Promise<RotationOutcome> {
    const previousSigning = this.#plan?.signingId
    const previousBundle = this.#plan?.bundleIds.join(',')
    this.#reconcileFailed = true // until it returns
    for (let round = 0; round < MAX_RECONCILE_ROUNDS; round++) {
      const cas = await this.#load(now)
      const plan = planRotation(
        cas.map((ca) => ({
          id: ca.id,
          notBefore: ca.certificate.notBefore,
          notAfter: ca.certificate.notAfter,
          hasKey: ca.privateKey !== undefined,
        })),
        now,
      )
      const filesDue = plan.create !== 'none' || plan.removeIds.length > 0 || plan.retireKeyIds.length > 0
      if (this.#maintain !== undefined) {
        if (filesDue) {
          await this.#maintain()
          continue
        }
      } else {
        for (const id of plan.removeIds) await this.#store.deleteCa(id)
        for (const id of plan.retireKeyIds) await this.#store.deleteKey(id)
        if (plan.create !== 'none') {
          await this.#createCa(now)
          continue
        }
      }
      const signing = cas.find((ca) => ca.id === plan.signingId)
      if (signing?.privateKey === undefined || signing.privateKeyObject === undefined)
        throw new Error(`planned signing CA ${plan.signingId} has no key`)
      const bundleChanged = plan.bundleIds.join(',') !== previousBundle
      this.#cas = cas.filter((ca) => plan.bundleIds.includes(ca.id))
      const next = { certificate: signing.certificate, privateKey: signing.privateKey }
      this.#svidTemplate = await createAgentSvidTemplate(next, signing.privateKeyObject)
      this.#signing = next
      this.#plan = plan
      if (bundleChanged) {
        this.#bundle = buildTrustBundle(
          this.#cas.map((ca) => ca.certificate),
          this.#refreshHintSeconds(),
        )
        if (this.#maintain === undefined) await this.#store.writeBundle(this.#bundle.pem)
      }
      this.#reconcileFailed = false
      return { signingCaChanged: plan.signingId !== previousSigning, bundleChanged }
    }
    throw new Error(`CA rotation did not settle after ${MAX_RECONCILE_ROUNDS} rounds`)
  }

  #refreshHintSeconds(): number {
    return Math.max(
      1,
      Math.min(MAX_REFRESH_HINT_SECONDS, Math.floor(this.#caTtlMs / 1000 / REFRESH_HINT_DIVISOR)),
    )
  }

  /**
   * Reads every CA on disk. A key found without its certificate (creation interrupted between
   * the two files) gets its certificate now, unless another process maintains the directory
   * (a key alone is then its creation in progress there, and is skipped).
   */
  async #load(now: Date): Promise<LoadedCa[]> {
    const loaded: LoadedCa[] = []
    for (const [id, files] of await this.#store.readAll()) {
      const privateKey = files.keyPem === undefined ? undefined : this.#parseKey(id, files.keyPem)
      let certificate: x509.X509Certificate
      if (files.certificatePem !== undefined) {
        certificate = this.#parseCertificate(id, files.certificatePem)
      } else if (privateKey !== undefined && this.#maintain === undefined) {
        certificate = await this.#certify(id, privateKey, now)
      } else {
        continue
      }
      if (privateKey !== undefined) this.#checkPair(id, privateKey, certificate)
      loaded.push({
        id,
        certificate,
        privateKey: privateKey === undefined ? undefined : await signingKeyOf(privateKey),
        privateKeyObject: privateKey,
      })
    }
    return loaded
  }

  /** Creates a CA: key first, then certificate, so a crash in between leaves a recoverable key. */
  async #createCa(now: Date): Promise<void> {
    const keys = await crypto.subtle.generateKey(CA_KEY_ALGORITHM, true, ['sign', 'verify'])
    const id = this.#store.newId(now)
    const pkcs8 = await crypto.subtle.exportKey('pkcs8', keys.privateKey)
    if (!(await this.#store.publishKey(id, x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')))) {
      throw new Error(`CA id ${id} already exists`)
    }
    await this.#certify(id, createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }), now)
  }

  /**
   * Issues and publishes the self-signed certificate of key `id`. If another process sharing
   * `data_dir` published one first, that one is used, so both processes trust the same CA.
   */
  async #certify(id: string, privateKey: KeyObject, now: Date): Promise<x509.X509Certificate> {
    const certificate = await createCaCertificate({
      publicKey: new Uint8Array(createPublicKey(privateKey).export({ type: 'spki', format: 'der' })),
      privateKey: await signingKeyOf(privateKey),
      trustDomain: this.trustDomain,
      now,
      ttlMs: this.#caTtlMs,
    })
    if (await this.#store.publishCertificate(id, certificate.toString('pem'))) return certificate
    const files = (await this.#store.readAll()).get(id)
    if (files?.certificatePem === undefined)
      throw new Error(`certificate of CA ${id} vanished while being created`)
    return this.#parseCertificate(id, files.certificatePem)
  }

  #parseKey(id: string, pem: string): KeyObject {
    const path = this.#store.keyPath(id)
    let key: KeyObject
    try {
      key = createPrivateKey(pem)
    } catch (error) {
      throw new CaStoreError(path, 'is not a PEM private key', { cause: error })
    }
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new CaStoreError(
        path,
        `holds a ${key.asymmetricKeyType ?? 'unknown'} key; expected an EC P-256 key`,
      )
    }
    return key
  }

  #parseCertificate(id: string, pem: string): x509.X509Certificate {
    const path = this.#store.certificatePath(id)
    let certificate: x509.X509Certificate
    try {
      certificate = new x509.X509Certificate(pem)
    } catch (error) {
      throw new CaStoreError(path, 'is not a PEM certificate', { cause: error })
    }
    const problem = caCertificateProblem(certificate, this.trustDomain)
    if (problem !== undefined) throw new CaStoreError(path, problem)
    return certificate
  }

  #checkPair(id: string, privateKey: KeyObject, certificate: x509.X509Certificate): void {
    const fromKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' })
    if (!fromKey.equals(Buffer.from(certificate.publicKey.rawData))) {
      throw new CaStoreError(
        this.#store.keyPath(id),
        `does not match the public key of ${this.#store.certificatePath(id)}`,
      )
    }
  }
}

/**
 * The WebCrypto form of a CA key that @peculiar/x509 signs with, not extractable: once loaded,
 * the key material never leaves the crypto layer again.
 */
async function signingKeyOf(privateKey: KeyObject): Promise<WebCryptoKey> {
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' })
  return crypto.subtle.importKey('pkcs8', new Uint8Array(pkcs8), CA_KEY_ALGORITHM, false, ['sign'])
}
