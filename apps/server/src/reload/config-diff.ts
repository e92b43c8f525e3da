import { createHash, KeyObject } from 'node:crypto'
import { type ClusterChanges, Secret } from '@k8s-attest/core'
import type { ServerConfig } from '../config/server-config.ts'

/**
 * Which keys a reload may change, and which need a restart.
 *
 * Reloadable: the node attestors — which attestors are configured, their clusters (added,
 * changed, removed) and every key of a cluster (allow-lists, audiences, kubeconfig, label
 * keys, SAT validation and keys). These are read per attestation, so the next attestation can
 * use new ones without disturbing the running ones.
 *
 * Everything else is bound to something built once at start — the listener (address, port,
 * DNS names in its certificate, rate limiter), the CA and datastore in `data_dir`, the trust
 * domain every recorded agent ID carries, the logger, the admin authenticator — and changing
 * it needs a restart (`workers` too: the primary forks them once). The map is exhaustive: a key added to {@link ServerConfig} does not
 * compile until it is listed here (or made reloadable).
 */
export const NON_RELOADABLE_KEYS = {
  trustDomain: 'server.trust_domain',
  bindAddress: 'server.bind_address',
  bindPort: 'server.bind_port',
  dataDir: 'server.data_dir',
  caTtlMs: 'server.ca_ttl',
  agentTtlMs: 'server.agent_ttl',
  logLevel: 'server.log_level',
  dnsNames: 'server.dns_names',
  admin: 'server.admin',
  rateLimit: 'server.rate_limit',
  listener: 'server.read_header_timeout, request_timeout, idle_timeout, max_connections',
  metrics: 'telemetry.Prometheus',
  dataStore: 'plugins.DataStore "sql"',
  workers: 'server.workers',
  bundleNotifier: 'plugins.Notifier "k8sbundle"',
} as const satisfies Record<Exclude<keyof ServerConfig, 'configFile' | 'warnings' | 'nodeAttestors'>, string>

/** The configuration-file names of the non-reloadable keys whose values differ, in file order. */
export function changedNonReloadableKeys(running: ServerConfig, next: ServerConfig): string[] {
  return Object.entries(NON_RELOADABLE_KEYS)
    .filter(([field]) => {
      const key = field as keyof typeof NON_RELOADABLE_KEYS
      return comparable(running[key]) !== comparable(next[key])
    })
    .map(([, name]) => name)
}

/** What a reload changes in each attestor's clusters. */
export interface AttestorClusterChanges {
  readonly k8s_psat: ClusterChanges
  readonly k8s_sat: ClusterChanges
}

/** The clusters `next` adds, changes (any key, allow-lists included) and removes, per attestor. */
export function clusterChanges(running: ServerConfig, next: ServerConfig): AttestorClusterChanges {
  return {
    k8s_psat: changesOf(running.nodeAttestors.k8sPsat?.clusters, next.nodeAttestors.k8sPsat?.clusters),
    k8s_sat: changesOf(running.nodeAttestors.k8sSat?.clusters, next.nodeAttestors.k8sSat?.clusters),
  }
}

/** Whether `changes` changes nothing. */
export function isNoChange(changes: AttestorClusterChanges): boolean {
  return Object.values(changes).every(
    (change) => change.added.length + change.changed.length + change.removed.length === 0,
  )
}

function changesOf(
  running: ReadonlyMap<string, unknown> | undefined,
  next: ReadonlyMap<string, unknown> | undefined,
): ClusterChanges {
  const before = running ?? new Map<string, unknown>()
  const after = next ?? new Map<string, unknown>()
  const sorted = (names: Iterable<string>) => [...names].sort()
  return {
    added: sorted([...after.keys()].filter((name) => !before.has(name))),
    changed: sorted(
      [...after.keys()].filter(
        (name) => before.has(name) && comparable(before.get(name)) !== comparable(after.get(name)),
      ),
    ),
    removed: sorted([...before.keys()].filter((name) => !after.has(name))),
  }
}

/**
 * A string equal for equal configuration values: maps as entries, keys by their public
 * encoding, secrets by a digest of their value (so no secret is ever compared as text or
 * ends up in the string). The replacer looks at the holder because `JSON.stringify` has
 * already applied `Secret.toJSON` (`[REDACTED]`) to the value it passes.
 */
function comparable(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, inner: unknown) {
    const original = key === '' ? inner : this[key]
    if (original instanceof Secret)
      return `sha256:${createHash('sha256').update(original.reveal()).digest('hex')}`
    if (inner instanceof Map) return [...inner.entries()]
    if (inner instanceof KeyObject) return inner.export({ format: 'jwk' })
    return inner
  })
}
