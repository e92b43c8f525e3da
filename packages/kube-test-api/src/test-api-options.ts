import { systemClock } from './clock.ts'
import type { ClusterSettings } from './cluster.ts'
import type { ServerOptions } from './server.ts'
import type { ServingCertificate } from './serving-certificate.ts'
import { generateSigningKey, signingKeyFrom } from './signing-key.ts'
import type { KubeTestApiOptions } from './test-api.ts'

/**
 * The options of `startKubeTestApi`, checked and resolved: into the
 * settings of its cluster and the options of its server, defaults filled in.
 */

const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local'

function validateOptions(options: KubeTestApiOptions): void {
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    throw new TypeError('"port" must be an integer from 0 to 65535')
  }
  if (options.issuer !== undefined && options.issuer.trim() === '')
    throw new TypeError('"issuer" must not be empty')
  if (options.apiAudiences !== undefined && options.apiAudiences.length === 0) {
    throw new TypeError('"apiAudiences" must name at least one audience')
  }
  if (
    options.maxTokenExpirationSeconds !== undefined &&
    (!Number.isInteger(options.maxTokenExpirationSeconds) || options.maxTokenExpirationSeconds < 600)
  ) {
    throw new TypeError('"maxTokenExpirationSeconds" must be an integer of at least 600')
  }
  if (options.signingKey !== undefined && options.signingAlgorithm !== undefined) {
    const key = signingKeyFrom(options.signingKey)
    if (key.algorithm !== options.signingAlgorithm) {
      throw new TypeError(
        `"signingKey" is a ${key.algorithm} key but "signingAlgorithm" is ${options.signingAlgorithm}`,
      )
    }
  }
}

/** The cluster `options` describe; a `TypeError` when one of them is invalid. */
export function clusterSettings(options: KubeTestApiOptions): ClusterSettings {
  validateOptions(options)
  const issuer = options.issuer ?? DEFAULT_ISSUER
  return {
    issuer,
    apiAudiences: [...(options.apiAudiences ?? [issuer])],
    signingKey:
      options.signingKey === undefined
        ? generateSigningKey(options.signingAlgorithm ?? 'RS256')
        : signingKeyFrom(options.signingKey),
    clock: options.clock ?? systemClock,
    tokenReviewCache: options.tokenReviewCache ?? true,
    extendTokenExpiration: options.extendTokenExpiration ?? true,
    maxTokenExpirationSeconds: options.maxTokenExpirationSeconds,
    watchHistoryLimit: options.watchHistoryLimit ?? 10_000,
    random: options.random ?? Math.random,
  }
}

/** Where and how to serve with `certificate`, as `options` say. */
export function serverOptions(options: KubeTestApiOptions, certificate: ServingCertificate): ServerOptions {
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    certificateChainPem: certificate.certificateChainPem,
    privateKeyPem: certificate.privateKeyPem,
    onError:
      options.onError ??
      ((error: unknown) => {
        process.stderr.write(
          `kube-test-api: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        )
      }),
  }
}
