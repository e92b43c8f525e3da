import { readFile } from 'node:fs/promises'
import { getCACertificates } from 'node:tls'
import { Agent, request } from 'undici'
import type { TrustBootstrap } from './config.ts'
import { AgentError, isAgentError } from './errors.ts'
import { type TrustBundle, trustBundleFromPem, trustBundleFromSpiffeJson } from './trust-bundle.ts'

/** Options of {@link bootstrapTrustBundle}. */
export interface BootstrapOptions {
  /**
   * CA certificates (PEM) that verify the `trust_bundle_url` fetch. Default: the operating
   * system's store (plus `NODE_EXTRA_CA_CERTS`), or Node's bundled Mozilla roots when the system
   * store is empty, as in distroless images.
   */
  readonly urlCa?: readonly string[]
  readonly connectTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly signal?: AbortSignal
}

/** Largest bundle document fetched; real bundles are a few KiB. */
const MAX_BUNDLE_BYTES = 1024 * 1024

/**
 * The bundle to trust the server with, from the configured bootstrap: the file read now (a
 * ConfigMap volume's file changes under a running agent, so a bootstrap after the bundle did not
 * vouch for the server reads what the server's notifier has published since), the URL fetched
 * now, or `undefined` for `insecure_bootstrap` (the server is then checked by SPIFFE ID only).
 *
 * The URL is fetched over HTTPS verified by the system's CAs, never by the bundle being
 * fetched: a bundle cannot vouch for itself, and an unverified fetch would hand trust to
 * whoever answers first.
 *
 * @throws {AgentError} `ATT_ERR_TRUST_BUNDLE_UNAVAILABLE` (the file cannot be read or the fetch
 *   failed; worth retrying) or `ATT_ERR_TRUST_BUNDLE_INVALID` (the document is not a bundle).
 */
export async function bootstrapTrustBundle(
  bootstrap: TrustBootstrap,
  options: BootstrapOptions,
): Promise<TrustBundle | undefined> {
  switch (bootstrap.kind) {
    case 'bundle_file':
      return readTrustBundleFile(bootstrap.path)
    case 'insecure':
      return undefined
    case 'bundle_url':
      return fetchTrustBundle(bootstrap.url, bootstrap.format, options)
  }
}

async function readTrustBundleFile(path: string): Promise<TrustBundle> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new AgentError(
      'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
      `cannot read trust_bundle_path ${JSON.stringify(path)} (${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message})`,
      { check: 'trust_bundle_path', value: path, cause: error },
    )
  }
  return trustBundleFromPem(text, path)
}

async function fetchTrustBundle(
  url: URL,
  format: 'pem' | 'spiffe',
  options: BootstrapOptions,
): Promise<TrustBundle> {
  const dispatcher = new Agent({
    connect: { ca: [...(options.urlCa ?? defaultUrlCa())], timeout: options.connectTimeoutMs },
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    maxResponseSize: MAX_BUNDLE_BYTES,
  })
  const source = url.href
  try {
    const response = await request(url, {
      dispatcher,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    })
    const text = await response.body.text()
    if (response.statusCode !== 200) {
      throw new AgentError(
        'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
        `trust_bundle_url ${JSON.stringify(source)} answered HTTP ${response.statusCode}; expected 200`,
        { check: 'trust_bundle_url', value: source, httpStatus: response.statusCode },
      )
    }
    return format === 'spiffe' ? trustBundleFromSpiffeJson(text, source) : trustBundleFromPem(text, source)
  } catch (error) {
    if (isAgentError(error)) throw error
    const code = (error as { code?: unknown }).code
    throw new AgentError(
      'ATT_ERR_TRUST_BUNDLE_UNAVAILABLE',
      `cannot fetch trust_bundle_url ${JSON.stringify(source)} (${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message})`,
      { check: 'trust_bundle_url', value: source, cause: error },
    )
  } finally {
    await dispatcher.close()
  }
}

function defaultUrlCa(): readonly string[] {
  const system = getCACertificates('system')
  const base = system.length > 0 ? system : getCACertificates('bundled')
  return [...base, ...getCACertificates('extra')]
}
