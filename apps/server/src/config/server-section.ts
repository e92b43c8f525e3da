import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { Secret, spiffeIdProblem, trustDomainProblem } from '@k8s-attest/core'
import {
  type ConfigIssue,
  describeFileError,
  formatDuration,
  type HclBodyReader,
} from '@k8s-attest/spire-config'
import {
  type AdminConfig,
  type ListenerConfig,
  type LogLevel,
  type RateLimitConfig,
  SERVER_CONFIG_DEFAULTS,
  type ServerConfig,
} from './server-config.ts'

/** The fields of {@link ServerConfig} that come from the `server { … }` block. */
export type ServerSection = Pick<
  ServerConfig,
  | 'trustDomain'
  | 'bindAddress'
  | 'bindPort'
  | 'dataDir'
  | 'caTtlMs'
  | 'agentTtlMs'
  | 'logLevel'
  | 'dnsNames'
  | 'admin'
  | 'rateLimit'
  | 'listener'
  | 'workers'
>

/**
 * SPIRE's CA manager switches to the next CA when the current one has 1/6 of its lifetime
 * left; an SVID issued just before is cut at the old CA's expiry. So an `agent_ttl` above
 * `ca_ttl / 6` is sometimes shortened (SPIRE warns the same way).
 */
const CA_ROTATION_DIVISOR = 6
const MIN_TTL_MS = 60_000
/** Shorter admin tokens are guessable; `openssl rand -hex 32` gives 64 characters. */
const MIN_BEARER_TOKEN_LENGTH = 32
/**
 * Most worker processes: each holds a whole server (about 250 MiB) and its own informer watches
 * on every cluster, so beyond one per core there is nothing to gain.
 */
const MAX_WORKERS = 64
const LOG_LEVELS: ReadonlySet<string> = new Set(['debug', 'info', 'warn', 'error'])

/**
 * SPIRE `server` keys that k8s-attest deliberately does not have, with what to do instead,
 * so a SPIRE configuration brought over fails with advice rather than "unknown key".
 */
const UNSUPPORTED_SPIRE_SERVER_KEYS: Readonly<Record<string, string>> = {
  admin_ids: 'k8s-attest reads admin IDs from the admin block: admin { admin_ids = [ … ] }',
  ratelimit: 'k8s-attest names this block rate_limit, with enabled and attestations_per_second inside it',
  ca_key_type: 'the CA key is always EC P-256',
  ca_subject: 'the CA subject is fixed (O=k8s-attest, CN=k8s-attest CA)',
  default_x509_svid_ttl: 'agent SVIDs live for agent_ttl (x509 mint takes -ttl for admin SVIDs)',
  default_jwt_svid_ttl: 'k8s-attest issues no JWT-SVIDs',
  federation: 'k8s-attest has no federation',
  socket_path: 'the admin API is served over HTTPS; configure the admin block',
  log_file: 'logs are written to standard output',
  log_format: 'logs are always JSON lines (pino)',
}

/** Reads `server { … }`. Problems go to the reader's issue list, advice to `warnings`. */
export async function readServerSection(
  server: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
  warnings: ConfigIssue[],
): Promise<ServerSection> {
  const defaults = SERVER_CONFIG_DEFAULTS
  if (server === undefined) {
    return {
      trustDomain: '',
      bindAddress: defaults.bindAddress,
      bindPort: defaults.bindPort,
      dataDir: '',
      caTtlMs: defaults.caTtlMs,
      agentTtlMs: defaults.agentTtlMs,
      logLevel: defaults.logLevel,
      dnsNames: defaults.dnsNames,
      admin: undefined,
      rateLimit: {
        enabled: defaults.rateLimitEnabled,
        attestationsPerSecond: defaults.attestationsPerSecond,
      },
      listener: defaults.listener,
      workers: defaults.workers,
    }
  }

  const trustDomain = server.string('trust_domain', 'a trust domain name such as "example.org"', {
    required: true,
  })
  const trustDomainIssue = trustDomain === undefined ? undefined : trustDomainProblem(trustDomain)
  if (trustDomainIssue !== undefined) server.report('trust_domain', trustDomainIssue)

  const bindAddress = readBindAddress(server)
  const bindPort = server.integer('bind_port', { min: 0, max: 65_535 }) ?? defaults.bindPort

  const dataDir = server.string('data_dir', 'a directory path such as "/var/lib/k8s-attest/server"', {
    required: true,
  })

  const caTtlMs = server.duration('ca_ttl', { minMs: MIN_TTL_MS }) ?? defaults.caTtlMs
  const agentTtlMs = server.duration('agent_ttl', { minMs: MIN_TTL_MS }) ?? defaults.agentTtlMs
  if (agentTtlMs > caTtlMs) {
    server.report(
      'agent_ttl',
      `(${formatDuration(agentTtlMs)}) must not exceed ca_ttl (${formatDuration(caTtlMs)}): ` +
        'an agent SVID cannot outlive the CA that signs it',
    )
  } else if (agentTtlMs > caTtlMs / CA_ROTATION_DIVISOR) {
    warnings.push({
      path: 'server.agent_ttl',
      message:
        `(${formatDuration(agentTtlMs)}) is more than ca_ttl / ${CA_ROTATION_DIVISOR} ` +
        `(${formatDuration(caTtlMs / CA_ROTATION_DIVISOR)}): SVIDs issued shortly before a CA rotation ` +
        'will be cut short at the old CA expiry; lower agent_ttl or raise ca_ttl to keep the full lifetime',
    })
  }

  const logLevel = readLogLevel(server)
  const dnsNames = server.stringList('dns_names', 'DNS names such as "localhost"', dnsNameProblem) ?? [
    ...defaults.dnsNames,
  ]

  const admin = await readAdmin(server.block('admin'), resolvePath)
  const rateLimit = readRateLimit(server.block('rate_limit'))
  const listener = readListener(server)
  const workers = server.integer('workers', { min: 1, max: MAX_WORKERS }) ?? defaults.workers
  server.rejectUnknownKeys(UNSUPPORTED_SPIRE_SERVER_KEYS)

  return {
    trustDomain: trustDomain ?? '',
    bindAddress,
    bindPort,
    dataDir: dataDir === undefined ? '' : resolvePath(dataDir),
    caTtlMs,
    agentTtlMs,
    logLevel,
    dnsNames,
    admin,
    rateLimit,
    listener,
    workers,
  }
}

/** Shortest listener timeout: below a second, ordinary clients on a slow link would be cut off. */
const MIN_LISTENER_TIMEOUT_MS = 1000

function readListener(server: HclBodyReader): ListenerConfig {
  const defaults = SERVER_CONFIG_DEFAULTS.listener
  const bounds = { minMs: MIN_LISTENER_TIMEOUT_MS, examples: ['10s', '30s', '2m'] }
  const readHeaderTimeoutMs = server.duration('read_header_timeout', bounds) ?? defaults.readHeaderTimeoutMs
  const requestTimeoutMs = server.duration('request_timeout', bounds) ?? defaults.requestTimeoutMs
  const idleTimeoutMs = server.duration('idle_timeout', bounds) ?? defaults.idleTimeoutMs
  const maxConnections =
    server.integer('max_connections', { min: 1, max: 1_000_000 }) ?? defaults.maxConnections
  if (readHeaderTimeoutMs > requestTimeoutMs) {
    server.report(
      'read_header_timeout',
      `(${formatDuration(readHeaderTimeoutMs)}) must not exceed request_timeout ` +
        `(${formatDuration(requestTimeoutMs)}): the headers are part of the request`,
    )
  }
  return { readHeaderTimeoutMs, requestTimeoutMs, idleTimeoutMs, maxConnections }
}

function readBindAddress(server: HclBodyReader): string {
  const value = server.string('bind_address', 'an IP address such as "0.0.0.0" or "::"')
  if (value === undefined) return SERVER_CONFIG_DEFAULTS.bindAddress
  // SPIRE accepts "[::1]" as well as "::1"; so do we, and listen on the bare address.
  const address = value.replace(/^\[(.*)\]$/, '$1')
  if (isIP(address) === 0) {
    server.report(
      'bind_address',
      `must be an IP address such as "0.0.0.0" (every IPv4 interface), "127.0.0.1" or "::"; got ${JSON.stringify(value)}`,
    )
  }
  return address
}

function readLogLevel(server: HclBodyReader): LogLevel {
  const value = server.string('log_level', 'one of "DEBUG", "INFO", "WARN", "ERROR"')
  if (value === undefined) return SERVER_CONFIG_DEFAULTS.logLevel
  const level = value.toLowerCase()
  if (!isLogLevel(level)) {
    server.report(
      'log_level',
      `must be one of "DEBUG", "INFO", "WARN", "ERROR" (any case); got ${JSON.stringify(value)}`,
    )
    return SERVER_CONFIG_DEFAULTS.logLevel
  }
  return level
}

function isLogLevel(level: string): level is LogLevel {
  return LOG_LEVELS.has(level)
}

/** RFC 1123 host names: labels of letters, digits and inner hyphens, at most 253 characters. */
function dnsNameProblem(name: string): string | undefined {
  const label = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/
  if (isIP(name) !== 0) return `must be a DNS name, not an IP address; got ${JSON.stringify(name)}`
  if (name.length > 253 || !name.split('.').every((part) => label.test(part))) {
    return `must be a DNS name such as "spire-server.spire.svc" (no wildcards); got ${JSON.stringify(name)}`
  }
  return undefined
}

async function readAdmin(
  admin: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): Promise<AdminConfig | undefined> {
  if (admin === undefined) return undefined
  // As in SPIRE, "" is the same as leaving the key out.
  const tokenFileSetting = admin.string('bearer_token_file', 'a file path', { allowEmpty: true })
  const adminIds =
    admin.stringList('admin_ids', 'SPIFFE IDs such as "spiffe://example.org/admin"', (id) =>
      // An admin is a workload: the ID of a bare trust domain names nobody.
      spiffeIdProblem(id, { requirePath: true }),
    ) ?? []
  admin.rejectUnknownKeys()

  if (tokenFileSetting === undefined || tokenFileSetting === '') {
    if (adminIds.length === 0) {
      admin.report(
        undefined,
        'must set bearer_token_file, a non-empty admin_ids, or both; remove the block to disable the admin API',
      )
    }
    return { bearerTokenFile: undefined, bearerToken: undefined, adminIds }
  }
  const bearerTokenFile = resolvePath(tokenFileSetting)
  const token = await readBearerToken(bearerTokenFile)
  if (typeof token === 'string') {
    admin.report('bearer_token_file', token)
    return { bearerTokenFile, bearerToken: undefined, adminIds }
  }
  return { bearerTokenFile, bearerToken: token, adminIds }
}

/** The token in `path`, or what is wrong with the file. */
async function readBearerToken(path: string): Promise<Secret | string> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return `cannot read ${JSON.stringify(path)}: ${describeFileError(error)}`
  }
  const token = text.trim()
  if (token.length < MIN_BEARER_TOKEN_LENGTH) {
    return (
      `${JSON.stringify(path)} must hold a token of at least ${MIN_BEARER_TOKEN_LENGTH} characters ` +
      `(e.g. from "openssl rand -hex 32"); it holds ${token.length}`
    )
  }
  if (/\s/.test(token)) return `${JSON.stringify(path)} must hold a single token without inner whitespace`
  return new Secret(token)
}

function readRateLimit(rateLimit: HclBodyReader | undefined): RateLimitConfig {
  const enabled = rateLimit?.boolean('enabled') ?? SERVER_CONFIG_DEFAULTS.rateLimitEnabled
  const attestationsPerSecond =
    rateLimit?.positiveNumber('attestations_per_second') ?? SERVER_CONFIG_DEFAULTS.attestationsPerSecond
  rateLimit?.rejectUnknownKeys({
    attestation: 'write enabled = true/false',
    signing: 'k8s-attest limits attestations only',
  })
  return { enabled, attestationsPerSecond }
}
