import { createPrivateKey, type KeyObject } from 'node:crypto'
import { mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { type AtomicFileWriter, removeAbandonedTemporaryFiles, writeFileAtomic } from './atomic-file.ts'
import { AgentError, isAgentError } from './errors.ts'
import { type HeldSvid, verifySvid } from './svid-verify.ts'
import { type TrustBundle, trustBundleFromPem, trustBundleToPem } from './trust-bundle.ts'

/**
 * The SVID chain (leaf first) followed by its private key (PKCS#8), mode 0600. One file, so that
 * the certificate and its key are replaced together by a single rename: with two files a crash
 * between the renames would leave a certificate next to a key it does not certify.
 */
export const SVID_FILE_NAME = 'agent-svid.pem'
/** The trust bundle, PEM CA certificates, mode 0644 (public). */
export const BUNDLE_FILE_NAME = 'bundle.pem'

const SVID_FILE_MODE = 0o600
const BUNDLE_FILE_MODE = 0o644
const DATA_DIR_MODE = 0o700

/** What a stored file turned out to be: absent, present but unusable (with why), or usable. */
export type Stored<T> =
  | { readonly status: 'missing'; readonly path: string }
  | { readonly status: 'unusable'; readonly path: string; readonly error: AgentError }
  | { readonly status: 'usable'; readonly path: string; readonly value: T }

/**
 * Creates data_dir (mode 0700) if it does not exist yet.
 *
 * @throws {AgentError} `ATT_ERR_DATA_DIR_FAILED`.
 */
export async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: DATA_DIR_MODE })
  } catch (error) {
    throw dataDirFailed(`cannot create data_dir ${JSON.stringify(dataDir)}`, dataDir, error)
  }
}

/**
 * Removes the half-written temporary files of the SVID and bundle that a kill in the middle of
 * storing one left in data_dir; the stored files themselves are whole (atomic writes).
 *
 * @returns the paths removed.
 * @throws {AgentError} `ATT_ERR_DATA_DIR_FAILED`.
 */
export async function removeAbandonedWrites(dataDir: string): Promise<string[]> {
  try {
    return await removeAbandonedTemporaryFiles(dataDir, [SVID_FILE_NAME, BUNDLE_FILE_NAME])
  } catch (error) {
    throw dataDirFailed(
      `cannot remove abandoned temporary files from data_dir ${JSON.stringify(dataDir)}`,
      dataDir,
      error,
    )
  }
}

/**
 * Stores the trust bundle in data_dir, atomically.
 *
 * @throws {AgentError} `ATT_ERR_DATA_DIR_FAILED`.
 */
export async function storeBundle(
  dataDir: string,
  bundle: TrustBundle,
  write: AtomicFileWriter = writeFileAtomic,
): Promise<void> {
  const path = join(dataDir, BUNDLE_FILE_NAME)
  try {
    await write(path, trustBundleToPem(bundle), BUNDLE_FILE_MODE)
  } catch (error) {
    throw dataDirFailed(`cannot write the trust bundle to ${JSON.stringify(path)}`, path, error)
  }
}

/**
 * Stores the SVID and its private key in data_dir, atomically (mode 0600).
 *
 * @throws {AgentError} `ATT_ERR_DATA_DIR_FAILED`.
 */
export async function storeSvid(
  dataDir: string,
  svid: HeldSvid,
  write: AtomicFileWriter = writeFileAtomic,
): Promise<void> {
  const path = join(dataDir, SVID_FILE_NAME)
  const chain = svid.chainPem.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('')
  const key = svid.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  try {
    await write(path, chain + key, SVID_FILE_MODE)
  } catch (error) {
    throw dataDirFailed(`cannot write the SVID to ${JSON.stringify(path)}`, path, error)
  }
}

/**
 * Removes the stored SVID and its key (the bundle stays), and flushes data_dir so the removal
 * survives a crash: for a banned agent, whose SVID must no longer pass for an identity, neither
 * to a restarted agent nor to `healthcheck`. Removing an SVID that is not there is not an error.
 *
 * @throws {AgentError} `ATT_ERR_DATA_DIR_FAILED`.
 */
export async function removeStoredSvid(dataDir: string): Promise<void> {
  const path = join(dataDir, SVID_FILE_NAME)
  try {
    await rm(path, { force: true })
    const directory = await open(dataDir, 'r')
    try {
      await directory.sync()
    } finally {
      await directory.close()
    }
  } catch (error) {
    // data_dir itself missing means nothing was ever stored: nothing to remove.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw dataDirFailed(`cannot remove the SVID ${JSON.stringify(path)}`, path, error)
  }
}

/** Reads the stored trust bundle. */
export async function loadStoredBundle(dataDir: string): Promise<Stored<TrustBundle>> {
  const path = join(dataDir, BUNDLE_FILE_NAME)
  const text = await readStoredFile(path)
  if (typeof text !== 'string') return text
  try {
    return { status: 'usable', path, value: trustBundleFromPem(text, path) }
  } catch (error) {
    if (!isAgentError(error)) throw error
    return { status: 'unusable', path, error }
  }
}

/** What a stored SVID is checked against. */
export interface StoredSvidExpectations {
  /** The bundle the SVID must chain to (the stored one). */
  readonly bundle: TrustBundle
  readonly trustDomain: string
  /** Milliseconds since the epoch. */
  readonly now: number
  /** See `VerifySvidInput.acceptNotYetValid` (k8s_sat). */
  readonly acceptNotYetValid?: boolean
}

/**
 * Reads the stored SVID and verifies it as if it had just been received (chain to `bundle`,
 * SPIFFE ID of our trust domain, key match, validity at `now`), so a restarted agent reuses it
 * only when it is still good.
 */
export async function loadStoredSvid(
  dataDir: string,
  expect: StoredSvidExpectations,
): Promise<Stored<HeldSvid>> {
  const path = join(dataDir, SVID_FILE_NAME)
  const text = await readStoredFile(path)
  if (typeof text !== 'string') return text
  const chainPem = [
    ...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\r?\n?/g),
  ].map((match) => match[0])
  const keyPem = /-----BEGIN PRIVATE KEY-----[\s\S]*?-----END PRIVATE KEY-----/.exec(text)?.[0]
  if (keyPem === undefined) {
    return {
      status: 'unusable',
      path,
      error: dataDirFailed(`${JSON.stringify(path)} holds no private key`, path),
    }
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(keyPem)
  } catch (error) {
    return {
      status: 'unusable',
      path,
      error: dataDirFailed(`${JSON.stringify(path)} holds a private key that cannot be parsed`, path, error),
    }
  }
  try {
    const value = verifySvid({ chainPem, privateKey, ...expect })
    return { status: 'usable', path, value }
  } catch (error) {
    if (!isAgentError(error)) throw error
    return { status: 'unusable', path, error }
  }
}

/** The file's text, or the `missing`/`unusable` outcome when it cannot be read. */
async function readStoredFile(path: string): Promise<string | Exclude<Stored<never>, { status: 'usable' }>> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing', path }
    return {
      status: 'unusable',
      path,
      error: dataDirFailed(`cannot read ${JSON.stringify(path)}`, path, error),
    }
  }
}

function dataDirFailed(message: string, path: string, cause?: unknown): AgentError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code
  return new AgentError(
    'ATT_ERR_DATA_DIR_FAILED',
    reason === undefined ? message : `${message} (${reason})`,
    {
      check: 'data_dir',
      value: path,
      ...(cause === undefined ? {} : { cause }),
    },
  )
}
