// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${VAR}" and "${expr}" are the configuration syntax under test, not template literals.
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { inspect } from 'node:util'
import { ConfigError, type ConfigIssue } from '@k8s-attest/spire-config'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../logging/logger.ts'
import { loadServerConfig, type ParseServerConfigOptions, parseServerConfig } from './load-server-config.ts'

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/config')
const EXAMPLE_CONFIG = resolve(import.meta.dirname, '../../conf/server.conf')

/** HCL attribute values by key, written as HCL (`'"example.org"'`, `'8081'`); `undefined` leaves the key out. */
type Settings = Readonly<Record<string, string | undefined>>

const SERVER: Settings = { trust_domain: '"example.org"', data_dir: '"./data"' }
const PSAT_CLUSTER: Settings = { service_account_allow_list: '["spire:spire-agent"]' }
const SQLITE = dataStore({ database_type: '"sqlite3"' })

function attributes(settings: Settings): string {
  return Object.entries(settings)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([key, value]) => `${key} = ${value}`)
    .join('\n')
}

function dataStore(pluginData: Settings): string {
  return `DataStore "sql" {\nplugin_data {\n${attributes(pluginData)}\n}\n}`
}

function clustersMap(clusters: Readonly<Record<string, Settings>>): string {
  const entries = Object.entries(clusters).map(
    ([name, settings]) => `"${name}" = {\n${attributes(settings)}\n}`,
  )
  return `clusters = {\n${entries.join('\n')}\n}`
}

function psat(clusters: Readonly<Record<string, Settings>> = { demo: PSAT_CLUSTER }): string {
  return `NodeAttestor "k8s_psat" {\nplugin_data {\n${clustersMap(clusters)}\n}\n}`
}

function sat(clusters: Readonly<Record<string, Settings>>): string {
  return `NodeAttestor "k8s_sat" {\nplugin_data {\n${clustersMap(clusters)}\n}\n}`
}

/** A configuration file: the `server` block from settings (plus raw `serverBlocks`), then `plugins`. */
function configText(
  parts: {
    readonly server?: Settings
    readonly serverBlocks?: string
    readonly plugins?: readonly string[]
    readonly topLevel?: string
  } = {},
): string {
  const server = `server {\n${attributes(parts.server ?? SERVER)}\n${parts.serverBlocks ?? ''}\n}`
  const plugins = `plugins {\n${(parts.plugins ?? [SQLITE, psat()]).join('\n')}\n}`
  return `${server}\n${plugins}\n${parts.topLevel ?? ''}\n`
}

describe('loading the server configuration', () => {
  let dir: string
  let configFile: string

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'k8s-attest-config-'))
    configFile = join(dir, 'server.conf')
    for (const name of ['admin-token', 'kubeconfig.yaml', 'service-account-keys.pem']) {
      await copyFile(join(FIXTURES, name), join(dir, name))
    }
    await writeFile(join(dir, 'short-token'), 'abc12\n')
    await writeFile(
      join(dir, 'impersonating.kubeconfig'),
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: demo',
        'contexts: [{ name: demo, context: { cluster: demo, user: srv } }]',
        'users: [{ name: srv, user: { token: abc, as: someone, as-groups: [admins] } }]',
        '',
      ].join('\n'),
    )
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  function parse(text: string, options: ParseServerConfigOptions = {}) {
    return parseServerConfig(text, configFile, options)
  }

  /** The issues of the ConfigError that `text` must cause. */
  async function issuesOf(
    text: string,
    options: ParseServerConfigOptions = {},
  ): Promise<readonly ConfigIssue[]> {
    const error = await parse(text, options).then(
      () => undefined,
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('ATT_ERR_CONFIG_INVALID')
    return (error as ConfigError).issues
  }

  describe('the happy path', () => {
    it('applies every default to a minimal configuration', async () => {
      const config = await parse(configText())
      expect(config).toEqual({
        configFile,
        trustDomain: 'example.org',
        bindAddress: '0.0.0.0',
        bindPort: 8081,
        dataDir: join(dir, 'data'),
        caTtlMs: 24 * 3_600_000,
        agentTtlMs: 3_600_000,
        logLevel: 'info',
        dnsNames: ['localhost'],
        admin: undefined,
        rateLimit: { enabled: true, attestationsPerSecond: 1 },
        listener: {
          readHeaderTimeoutMs: 10_000,
          requestTimeoutMs: 30_000,
          idleTimeoutMs: 120_000,
          maxConnections: 1000,
        },
        workers: 1,
        metrics: undefined,
        dataStore: { databaseType: 'sqlite3', connectionString: join(dir, 'data', 'datastore.sqlite3') },
        nodeAttestors: {
          k8sPsat: {
            clusters: new Map([
              [
                'demo',
                {
                  name: 'demo',
                  serviceAccountAllowList: ['spire:spire-agent'],
                  audience: ['spire-server'],
                  kubeConfigFile: undefined,
                  kubeApiTimeoutMs: 5_000,
                  allowedNodeLabelKeys: [],
                  allowedPodLabelKeys: [],
                  usePodUidForAgentId: false,
                  tokenVerification: 'tokenreview',
                },
              ],
            ]),
          },
          k8sSat: undefined,
        },
        warnings: [],
      })
    })

    it('reads every setting, resolving relative paths against the configuration file directory', async () => {
      const config = await parse(
        configText({
          server: {
            ...SERVER,
            bind_address: '"[::1]"',
            bind_port: '0',
            ca_ttl: '"48h"',
            agent_ttl: '"30m"',
            log_level: '"debug"',
            dns_names: '["spire-server.spire.svc", "localhost"]',
            read_header_timeout: '"5s"',
            request_timeout: '"1m"',
            idle_timeout: '"90s"',
            max_connections: '200',
            workers: '3',
          },
          topLevel: 'telemetry {\nPrometheus {\nport = 9988\n}\n}',
          serverBlocks:
            'admin {\nbearer_token_file = "admin-token"\nadmin_ids = ["spiffe://example.org/admin"]\n}\n' +
            'rate_limit {\nenabled = false\nattestations_per_second = 0.5\n}',
          plugins: [
            dataStore({ database_type: '"sqlite3"', connection_string: '"db/attest.sqlite3"' }),
            psat({
              demo: {
                ...PSAT_CLUSTER,
                audience: '[]',
                kube_config_file: '"kubeconfig.yaml"',
                kube_api_timeout: '"1.5s"',
                allowed_node_label_keys: '["topology.kubernetes.io/zone"]',
                allowed_pod_label_keys: '["app"]',
                use_pod_uid_for_agent_id: 'true',
              },
              jwks: { ...PSAT_CLUSTER, token_verification: '"jwks"' },
            }),
            sat({
              keys: {
                service_account_allow_list: '["kube-system:node-agent"]',
                service_account_key_file: '"service-account-keys.pem"',
              },
              projected: {
                service_account_allow_list: '["kube-system:node-agent"]',
                service_account_key_file: '"service-account-keys.pem"',
                service_account_issuer: '"https://kubernetes.default.svc.cluster.local"',
              },
              review: {
                service_account_allow_list: '["spire:spire-agent"]',
                use_token_review_api_validation: 'true',
                kube_config_file: '"./kubeconfig.yaml"',
                kube_api_timeout: '"250ms"',
              },
            }),
          ],
        }),
      )
      expect(config).toMatchObject({
        bindAddress: '::1',
        bindPort: 0,
        caTtlMs: 48 * 3_600_000,
        agentTtlMs: 1_800_000,
        logLevel: 'debug',
        dnsNames: ['spire-server.spire.svc', 'localhost'],
        admin: { bearerTokenFile: join(dir, 'admin-token'), adminIds: ['spiffe://example.org/admin'] },
        rateLimit: { enabled: false, attestationsPerSecond: 0.5 },
        listener: {
          readHeaderTimeoutMs: 5000,
          requestTimeoutMs: 60_000,
          idleTimeoutMs: 90_000,
          maxConnections: 200,
        },
        workers: 3,
        metrics: { host: '127.0.0.1', port: 9988 },
        dataStore: { databaseType: 'sqlite3', connectionString: join(dir, 'db', 'attest.sqlite3') },
      })
      const token = (await readFile(join(dir, 'admin-token'), 'utf8')).trim()
      expect(config.admin?.bearerToken?.reveal()).toBe(token)
      // The whole configuration may be dumped or logged without leaking the admin token.
      const logLines: string[] = []
      createLogger({ level: 'info', destination: { write: (line: string) => logLines.push(line) } }).info(
        { config },
        'configuration loaded',
      )
      expect(logLines.join('')).toContain('"bearerToken":"[REDACTED]"')
      expect(logLines.join('')).not.toContain(token)
      expect(inspect(config, { depth: Number.POSITIVE_INFINITY })).not.toContain(token)
      expect(config.nodeAttestors.k8sPsat?.clusters.get('demo')).toEqual({
        name: 'demo',
        serviceAccountAllowList: ['spire:spire-agent'],
        audience: [],
        kubeConfigFile: join(dir, 'kubeconfig.yaml'),
        kubeApiTimeoutMs: 1_500,
        allowedNodeLabelKeys: ['topology.kubernetes.io/zone'],
        allowedPodLabelKeys: ['app'],
        usePodUidForAgentId: true,
        tokenVerification: 'tokenreview',
      })
      expect(config.nodeAttestors.k8sPsat?.clusters.get('jwks')?.tokenVerification).toBe('jwks')
      const satClusters = config.nodeAttestors.k8sSat?.clusters
      expect(satClusters?.get('review')?.validation).toEqual({
        kind: 'token-review',
        kubeConfigFile: join(dir, 'kubeconfig.yaml'),
        kubeApiTimeoutMs: 250,
      })
      const keyValidation = satClusters?.get('keys')?.validation
      expect(keyValidation?.kind).toBe('service-account-keys')
      expect(keyValidation).toMatchObject({
        keyFile: join(dir, 'service-account-keys.pem'),
        issuer: 'kubernetes/serviceaccount',
      })
      expect(keyValidation?.kind === 'service-account-keys' && keyValidation.keys.length).toBe(3)
      expect(satClusters?.get('projected')?.validation).toMatchObject({
        issuer: 'https://kubernetes.default.svc.cluster.local',
      })
    })

    it('accepts postgres with a URL', async () => {
      const url = 'postgresql://k8s-attest:pw@db.example:5432/attest?sslmode=verify-full'
      const config = await parse(
        configText({
          plugins: [dataStore({ database_type: '"postgres"', connection_string: `"${url}"` }), psat()],
        }),
      )
      expect(config.dataStore).toEqual({ databaseType: 'postgres', connectionString: url })
    })

    it('returns a deeply frozen object', async () => {
      const config = await parse(configText())
      expect(Object.isFrozen(config)).toBe(true)
      expect(Object.isFrozen(config.dnsNames)).toBe(true)
      expect(Object.isFrozen(config.rateLimit)).toBe(true)
      expect(
        Object.isFrozen(config.nodeAttestors.k8sPsat?.clusters.get('demo')?.serviceAccountAllowList),
      ).toBe(true)
    })

    it('warns, without refusing, when agent_ttl is above ca_ttl / 6', async () => {
      const config = await parse(configText({ server: { ...SERVER, agent_ttl: '"6h"' } }))
      expect(config.warnings).toEqual([
        {
          path: 'server.agent_ttl',
          message:
            '(6h) is more than ca_ttl / 6 (4h): SVIDs issued shortly before a CA rotation will be cut short at ' +
            'the old CA expiry; lower agent_ttl or raise ca_ttl to keep the full lifetime',
        },
      ])
    })

    it('loads the commented example configuration', async () => {
      const config = await loadServerConfig(EXAMPLE_CONFIG)
      expect(config).toMatchObject({
        trustDomain: 'example.org',
        bindAddress: '0.0.0.0',
        bindPort: 8081,
        dataDir: resolve(EXAMPLE_CONFIG, '../.data/server'),
        caTtlMs: 24 * 3_600_000,
        agentTtlMs: 3_600_000,
        logLevel: 'info',
        dnsNames: ['localhost', 'spire-server.spire.svc'],
        admin: {
          bearerTokenFile: undefined,
          bearerToken: undefined,
          adminIds: ['spiffe://example.org/admin'],
        },
        rateLimit: { enabled: true, attestationsPerSecond: 1 },
        listener: {
          readHeaderTimeoutMs: 10_000,
          requestTimeoutMs: 30_000,
          idleTimeoutMs: 120_000,
          maxConnections: 1000,
        },
        metrics: { host: '127.0.0.1', port: 9988 },
        bundleNotifier: {
          namespace: 'spire',
          configMap: 'spire-bundle',
          configMapKey: 'bundle.crt',
          kubeConfigFile: undefined,
        },
        dataStore: {
          databaseType: 'sqlite3',
          connectionString: resolve(EXAMPLE_CONFIG, '../.data/server/datastore.sqlite3'),
        },
        warnings: [],
      })
      expect([...(config.nodeAttestors.k8sPsat?.clusters.keys() ?? [])]).toEqual(['demo-cluster'])
      expect(config.nodeAttestors.k8sSat?.clusters.get('legacy-cluster')?.validation).toEqual({
        kind: 'token-review',
        kubeConfigFile: undefined,
        kubeApiTimeoutMs: 5_000,
      })
    })
  })

  describe('-expandEnv', () => {
    const text = configText({ server: { trust_domain: '"${TRUST_DOMAIN}"', data_dir: '"$DATA_DIR/server"' } })

    it('substitutes environment variables before parsing when asked', async () => {
      const config = await parse(text, {
        expandEnv: true,
        env: { TRUST_DOMAIN: 'prod.example.org', DATA_DIR: '/srv' },
      })
      expect(config.trustDomain).toBe('prod.example.org')
      expect(config.dataDir).toBe('/srv/server')
    })

    it('leaves the text alone otherwise, and names the unevaluated expression', async () => {
      expect(await issuesOf(text, { env: { TRUST_DOMAIN: 'prod.example.org' } })).toEqual([
        {
          path: 'server.trust_domain',
          message:
            'contains the HCL expression "${TRUST_DOMAIN}", which is not evaluated; write a literal value ' +
            '(environment variables are substituted only when the configuration is loaded with expandEnv)',
        },
      ])
    })
  })

  describe('the file itself', () => {
    it('fails when the file cannot be read', async () => {
      const path = join(dir, 'absent.conf')
      const error = await loadServerConfig(path).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConfigError)
      expect(error).toMatchObject({
        code: 'ATT_ERR_CONFIG_UNREADABLE',
        issues: [
          {
            path: '',
            message: `cannot read the configuration file (no such file) at ${JSON.stringify(path)}; pass its path with -config`,
          },
        ],
      })
    })

    it('fails on HCL syntax errors with their location', async () => {
      const error = await parse('server {\n  trust_domain = \n}\n').catch((caught: unknown) => caught)
      expect(error).toMatchObject({ code: 'ATT_ERR_CONFIG_SYNTAX' })
      expect((error as ConfigError).issues.map((issue) => issue.path)).toEqual([`${configFile}:2:18`])
    })

    it('lists every problem at once, and prints them in the message', async () => {
      const error = await parse(
        configText({
          server: { ...SERVER, trust_domain: '"Example.org"', ca_ttl: '"1 day"' },
          plugins: [SQLITE, psat({ demo: { service_account_allow_list: '["spire-agent"]' } })],
        }),
      ).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(ConfigError)
      const { issues, message } = error as ConfigError
      expect(issues.map((issue) => issue.path)).toEqual([
        'server.trust_domain',
        'server.ca_ttl',
        'plugins.NodeAttestor.k8s_psat.plugin_data.clusters.demo.service_account_allow_list[0]',
      ])
      expect(message).toBe(
        [
          `invalid server configuration ${JSON.stringify(configFile)} (3 problems):`,
          '  - server.trust_domain: invalid trust domain "Example.org": the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found "E"; trust domains are lowercase)',
          '  - server.ca_ttl: must be a duration of at least 1m such as "24h", "1h30m" or "90s"; got "1 day": ' +
            'unknown unit " day" (units: ns, us, ms, s, m, h)',
          '  - plugins.NodeAttestor.k8s_psat.plugin_data.clusters.demo.service_account_allow_list[0]: must be a ' +
            'service account written "namespace:name", e.g. "spire:spire-agent"; got "spire-agent"',
        ].join('\n'),
      )
    })
  })

  describe('refuses the document shape', () => {
    it('without a server block', async () => {
      expect(await issuesOf(`plugins {\n${SQLITE}\n${psat()}\n}\n`)).toEqual([
        { path: 'server', message: 'is required; expected a block, server { … }' },
      ])
    })

    it('without a plugins block', async () => {
      expect(await issuesOf(`server {\n${attributes(SERVER)}\n}\n`)).toEqual([
        { path: 'plugins', message: 'is required; expected a block, plugins { … }' },
      ])
    })

    it('with two server blocks', async () => {
      expect(await issuesOf(configText({ topLevel: 'server {\n}' }))).toEqual([
        { path: 'server', message: 'is declared 2 times; expected one server block' },
      ])
    })

    it('with server written as an attribute', async () => {
      const text = configText().replace('server {', 'server = {')
      expect(await issuesOf(text)).toEqual([
        {
          path: 'server',
          message: 'must be written as a block, server { … }, without "=" and without a label',
        },
      ])
    })

    it('with an unknown top-level key', async () => {
      expect(await issuesOf(configText({ topLevel: 'sever_name = "x"' }))).toEqual([
        {
          path: 'sever_name',
          message: 'is not a known key here; expected one of: plugins, server, telemetry',
        },
      ])
    })

    it('with a SPIRE section k8s-attest does not have', async () => {
      expect(await issuesOf(configText({ topLevel: 'health_checks {\n}' }))).toEqual([
        {
          path: 'health_checks',
          message: 'is not supported: k8s-attest serves its health endpoints on the main listener',
        },
      ])
    })

    it('with a telemetry block that is not a Prometheus listener on an IP address', async () => {
      const issues = await issuesOf(
        configText({ topLevel: 'telemetry {\nPrometheus {\nhost = "metrics.local"\n}\nStatsd {\n}\n}' }),
      )
      expect(issues.map((issue) => issue.path)).toEqual(
        expect.arrayContaining([
          'telemetry.Prometheus.host',
          'telemetry.Prometheus.port',
          'telemetry.Statsd',
        ]),
      )
    })

    it('with a header timeout longer than the request timeout, or a timeout below a second', async () => {
      const issues = await issuesOf(
        configText({
          server: {
            ...SERVER,
            read_header_timeout: '"1m"',
            request_timeout: '"30s"',
            idle_timeout: '"10ms"',
          },
        }),
      )
      expect(issues.map((issue) => issue.path)).toEqual(['server.idle_timeout', 'server.read_header_timeout'])
    })
  })

  describe('refuses the server block', () => {
    it.each<[string, Settings, ConfigIssue]>([
      [
        'without trust_domain',
        { data_dir: '"./data"' },
        {
          path: 'server.trust_domain',
          message: 'is required; expected a trust domain name such as "example.org"',
        },
      ],
      [
        'with an invalid trust_domain',
        { ...SERVER, trust_domain: '"spiffe://example.org"' },
        {
          path: 'server.trust_domain',
          message:
            'invalid trust domain "spiffe://example.org": the trust domain may contain only lowercase letters, digits, ".", "-" and "_" (found ":"; give the bare name without "spiffe://")',
        },
      ],
      [
        'with a bind_address that is not an IP address',
        { ...SERVER, bind_address: '"localhost"' },
        {
          path: 'server.bind_address',
          message:
            'must be an IP address such as "0.0.0.0" (every IPv4 interface), "127.0.0.1" or "::"; got "localhost"',
        },
      ],
      [
        'with a bind_port out of range',
        { ...SERVER, bind_port: '70000' },
        { path: 'server.bind_port', message: 'must be an integer from 0 to 65535; got 70000' },
      ],
      [
        'with a bind_port given as a string',
        { ...SERVER, bind_port: '"8081"' },
        { path: 'server.bind_port', message: 'must be an integer from 0 to 65535; got "8081"' },
      ],
      [
        'without data_dir',
        { trust_domain: '"example.org"' },
        {
          path: 'server.data_dir',
          message: 'is required; expected a directory path such as "/var/lib/k8s-attest/server"',
        },
      ],
      [
        'with an empty data_dir',
        { ...SERVER, data_dir: '""' },
        {
          path: 'server.data_dir',
          message: 'must be a directory path such as "/var/lib/k8s-attest/server", not empty; got ""',
        },
      ],
      [
        'with a ca_ttl that is not a duration',
        { ...SERVER, ca_ttl: '"1d"' },
        {
          path: 'server.ca_ttl',
          message:
            'must be a duration of at least 1m such as "24h", "1h30m" or "90s"; got "1d": unknown unit "d" ' +
            '(units: ns, us, ms, s, m, h)',
        },
      ],
      [
        'with a ca_ttl given as a number',
        { ...SERVER, ca_ttl: '86400' },
        {
          path: 'server.ca_ttl',
          message: 'must be a duration of at least 1m such as "24h", "1h30m" or "90s"; got 86400',
        },
      ],
      [
        'with an agent_ttl below one minute',
        { ...SERVER, agent_ttl: '"30s"' },
        {
          path: 'server.agent_ttl',
          message: 'must be a duration of at least 1m such as "24h", "1h30m" or "90s"; got "30s"',
        },
      ],
      [
        'with an agent_ttl above ca_ttl',
        { ...SERVER, agent_ttl: '"48h"' },
        {
          path: 'server.agent_ttl',
          message: '(48h) must not exceed ca_ttl (24h): an agent SVID cannot outlive the CA that signs it',
        },
      ],
      [
        'with an unknown log_level',
        { ...SERVER, log_level: '"verbose"' },
        {
          path: 'server.log_level',
          message: 'must be one of "DEBUG", "INFO", "WARN", "ERROR" (any case); got "verbose"',
        },
      ],
      [
        'with a wildcard in dns_names',
        { ...SERVER, dns_names: '["localhost", "*.example.org"]' },
        {
          path: 'server.dns_names[1]',
          message: 'must be a DNS name such as "spire-server.spire.svc" (no wildcards); got "*.example.org"',
        },
      ],
      [
        'with an IP address in dns_names',
        { ...SERVER, dns_names: '["10.0.0.1"]' },
        { path: 'server.dns_names[0]', message: 'must be a DNS name, not an IP address; got "10.0.0.1"' },
      ],
      [
        'with a misspelt key, suggesting the right one',
        { ...SERVER, agent_tll: '"1h"' },
        { path: 'server.agent_tll', message: 'is not a known key here; did you mean "agent_ttl"?' },
      ],
      [
        "with SPIRE's admin_ids at the server level, saying where it goes",
        { ...SERVER, admin_ids: '["spiffe://example.org/admin"]' },
        {
          path: 'server.admin_ids',
          message:
            'is not supported: k8s-attest reads admin IDs from the admin block: admin { admin_ids = [ … ] }',
        },
      ],
      [
        'with no worker process',
        { ...SERVER, workers: '0' },
        { path: 'server.workers', message: 'must be an integer from 1 to 64; got 0' },
      ],
      [
        'with a fractional or quoted number of workers',
        { ...SERVER, workers: '"2"' },
        { path: 'server.workers', message: 'must be an integer from 1 to 64; got "2"' },
      ],
      [
        'with an HCL expression instead of a literal',
        { ...SERVER, bind_port: '8080 + 1' },
        {
          path: 'server.bind_port',
          message:
            'contains the HCL expression "${8080 + 1}", which is not evaluated; write a literal value ' +
            '(environment variables are substituted only when the configuration is loaded with expandEnv)',
        },
      ],
    ])('%s', async (_name, server, issue) => {
      expect(await issuesOf(configText({ server }))).toEqual([issue])
    })
  })

  describe('refuses the admin and rate_limit blocks', () => {
    it.each<[string, string, (dir: string) => ConfigIssue]>([
      [
        'an empty admin block',
        'admin {\n}',
        () => ({
          path: 'server.admin',
          message:
            'must set bearer_token_file, a non-empty admin_ids, or both; remove the block to disable the admin API',
        }),
      ],
      [
        'an admin ID that is not a workload SPIFFE ID',
        'admin {\nadmin_ids = ["spiffe://example.org/admin", "spiffe://example.org"]\n}',
        () => ({
          path: 'server.admin.admin_ids[1]',
          message:
            'invalid SPIFFE ID "spiffe://example.org": it names the trust domain itself; a path is required, e.g. "spiffe://example.org/workload"',
        }),
      ],
      [
        'a missing bearer token file',
        'admin {\nbearer_token_file = "no-such-token"\n}',
        (dir) => ({
          path: 'server.admin.bearer_token_file',
          message: `cannot read ${JSON.stringify(join(dir, 'no-such-token'))}: no such file`,
        }),
      ],
      [
        'a bearer token shorter than 32 characters',
        'admin {\nbearer_token_file = "short-token"\n}',
        (dir) => ({
          path: 'server.admin.bearer_token_file',
          message: `${JSON.stringify(join(dir, 'short-token'))} must hold a token of at least 32 characters (e.g. from "openssl rand -hex 32"); it holds 5`,
        }),
      ],
      [
        'a rate of zero',
        'rate_limit {\nattestations_per_second = 0\n}',
        () => ({
          path: 'server.rate_limit.attestations_per_second',
          message: 'must be a number greater than 0; got 0',
        }),
      ],
      [
        'enabled given as a string',
        'rate_limit {\nenabled = "true"\n}',
        () => ({ path: 'server.rate_limit.enabled', message: 'must be true or false; got "true"' }),
      ],
      [
        "SPIRE's ratelimit.attestation key",
        'rate_limit {\nattestation = true\n}',
        () => ({
          path: 'server.rate_limit.attestation',
          message: 'is not supported: write enabled = true/false',
        }),
      ],
    ])('%s', async (_name, serverBlocks, issue) => {
      expect(await issuesOf(configText({ serverBlocks }))).toEqual([issue(dir)])
    })
  })

  describe('refuses the DataStore plugin', () => {
    it.each<[string, readonly string[], ConfigIssue]>([
      [
        'when it is missing',
        [psat()],
        {
          path: 'plugins.DataStore',
          message: 'is required; expected DataStore "sql" { plugin_data { database_type = "sqlite3" } }',
        },
      ],
      [
        'when it is not "sql"',
        ['DataStore "mysql" {\nplugin_data {\n}\n}', psat()],
        {
          path: 'plugins.DataStore.mysql',
          message: 'is not a known DataStore plugin; expected DataStore "sql"',
        },
      ],
      [
        'without its name label',
        ['DataStore {\nplugin_data {\n}\n}', psat()],
        {
          path: 'plugins.DataStore',
          message: 'must be written as blocks with a name label, e.g. DataStore "sql" { … }',
        },
      ],
      [
        'without database_type',
        [dataStore({}), psat()],
        {
          path: 'plugins.DataStore.sql.plugin_data.database_type',
          message: 'is required; expected one of "sqlite3", "postgres"',
        },
      ],
      [
        'with an unknown database_type',
        [dataStore({ database_type: '"mysql"' }), psat()],
        {
          path: 'plugins.DataStore.sql.plugin_data.database_type',
          message: 'must be one of "sqlite3", "postgres"; got "mysql"',
        },
      ],
      [
        'for postgres without connection_string',
        [dataStore({ database_type: '"postgres"' }), psat()],
        {
          path: 'plugins.DataStore.sql.plugin_data.connection_string',
          message: 'is required for postgres; expected a URL such as "postgres://user@host/db"',
        },
      ],
      [
        'for postgres with a keyword/value connection string, without echoing it',
        [dataStore({ database_type: '"postgres"', connection_string: '"host=db password=secret"' }), psat()],
        {
          path: 'plugins.DataStore.sql.plugin_data.connection_string',
          message:
            'must be a postgres:// or postgresql:// URL for postgres (keyword/value strings are not supported)',
        },
      ],
      [
        'for sqlite3 with a URL',
        [
          dataStore({ database_type: '"sqlite3"', connection_string: '"file:///var/lib/db.sqlite3"' }),
          psat(),
        ],
        {
          path: 'plugins.DataStore.sql.plugin_data.connection_string',
          message: 'must be a file path for sqlite3, not a URL; got "file:///var/lib/db.sqlite3"',
        },
      ],
      [
        'for sqlite3 with ":memory:", before the path is resolved against data_dir',
        [dataStore({ database_type: '"sqlite3"', connection_string: '":memory:"' }), psat()],
        {
          path: 'plugins.DataStore.sql.plugin_data.connection_string',
          message:
            'is ":memory:", which would lose every agent at restart; expected the path of the database file, e.g. "/var/lib/k8s-attest/datastore.sqlite3"',
        },
      ],
      [
        'for sqlite3 with a "file:" URI without slashes',
        [
          dataStore({
            database_type: '"sqlite3"',
            connection_string: '"file:ds.sqlite3?_busy_timeout=5000"',
          }),
          psat(),
        ],
        {
          path: 'plugins.DataStore.sql.plugin_data.connection_string',
          message:
            'is a "file:" URI; expected the path of the database file, e.g. "/var/lib/k8s-attest/datastore.sqlite3"',
        },
      ],
      [
        'next to a SPIRE plugin type k8s-attest does not have',
        [SQLITE, psat(), 'KeyManager "disk" {\nplugin_data {\n}\n}'],
        {
          path: 'plugins.KeyManager',
          message: 'is not supported: the CA key is kept in data_dir, as with SPIRE\'s KeyManager "disk"',
        },
      ],
    ])('%s', async (_name, plugins, issue) => {
      expect(await issuesOf(configText({ plugins }))).toEqual([issue])
    })
  })

  describe('refuses the NodeAttestor plugins', () => {
    const cluster = 'plugins.NodeAttestor.k8s_psat.plugin_data.clusters.demo'
    const satCluster = 'plugins.NodeAttestor.k8s_sat.plugin_data.clusters.legacy'
    const keyFile = '"service-account-keys.pem"'

    it.each<[string, readonly string[], (dir: string) => ConfigIssue]>([
      [
        'when there is none',
        [SQLITE],
        () => ({
          path: 'plugins.NodeAttestor',
          message:
            'is required; configure at least one of NodeAttestor "k8s_psat" { … } and NodeAttestor "k8s_sat" { … }',
        }),
      ],
      [
        'of an unknown kind',
        [SQLITE, 'NodeAttestor "aws_iid" {\nplugin_data {\n}\n}'],
        () => ({
          path: 'plugins.NodeAttestor.aws_iid',
          message: 'is not a known NodeAttestor plugin; expected NodeAttestor "k8s_psat" or "k8s_sat"',
        }),
      ],
      [
        'declared twice',
        [SQLITE, psat(), psat()],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat',
          message: 'is declared 2 times; expected at most one NodeAttestor "k8s_psat" block',
        }),
      ],
      [
        'without plugin_data',
        [SQLITE, 'NodeAttestor "k8s_psat" {\n}'],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat.plugin_data',
          message: 'is required; expected a block, plugin_data { … }',
        }),
      ],
      [
        'with plugin_cmd',
        [SQLITE, psat().replace('plugin_data {', 'plugin_cmd = "/bin/x"\nplugin_data {')],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat.plugin_cmd',
          message: 'is not supported: k8s-attest runs only its built-in attestors',
        }),
      ],
      [
        'without clusters',
        [SQLITE, psat({})],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat.plugin_data.clusters',
          message:
            'must configure at least one cluster, e.g. clusters = { "<cluster name>" = { service_account_allow_list = ["spire:spire-agent"] } }',
        }),
      ],
      [
        'with clusters written as a block',
        [SQLITE, 'NodeAttestor "k8s_psat" {\nplugin_data {\nclusters {\ndemo = {}\n}\n}\n}'],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat.plugin_data.clusters',
          message:
            'must be a map of objects, clusters = { "<cluster name>" = { service_account_allow_list = ["spire:spire-agent"] } }; got a block',
        }),
      ],
      [
        'with a cluster name that cannot be a SPIFFE ID path segment',
        [SQLITE, psat({ 'my cluster': PSAT_CLUSTER })],
        () => ({
          path: 'plugins.NodeAttestor.k8s_psat.plugin_data.clusters["my cluster"]',
          message:
            'is not a usable cluster name: it becomes a SPIFFE ID path segment, so it may contain only letters, ' +
            'digits, ".", "-" and "_" (and is not "." or "..")',
        }),
      ],
      [
        'with a cluster without service_account_allow_list',
        [SQLITE, psat({ demo: { audience: '["spire-server"]' } })],
        () => ({
          path: `${cluster}.service_account_allow_list`,
          message:
            'is required; expected a list of service accounts written "namespace:name", e.g. "spire:spire-agent"',
        }),
      ],
      [
        'with an empty service_account_allow_list',
        [SQLITE, psat({ demo: { service_account_allow_list: '[]' } })],
        () => ({
          path: `${cluster}.service_account_allow_list`,
          message: 'cluster "demo" must allow at least one service account, e.g. ["spire:spire-agent"]',
        }),
      ],
      [
        'with a misspelt cluster key, suggesting the right one',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, audiance: '["spire-server"]' } })],
        () => ({ path: `${cluster}.audiance`, message: 'is not a known key here; did you mean "audience"?' }),
      ],
      [
        'with an empty audience',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, audience: '[""]' } })],
        () => ({
          path: `${cluster}.audience[0]`,
          message: 'must not be empty; write audience = [] to use the API server audiences',
        }),
      ],
      [
        'with an unknown token_verification, naming the allowed values',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, token_verification: '"local"' } })],
        () => ({
          path: `${cluster}.token_verification`,
          message: 'must be one of "tokenreview", "jwks"; got "local"',
        }),
      ],
      [
        'with token_verification = "jwks" and the API server audiences (audience = [])',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, token_verification: '"jwks"', audience: '[]' } })],
        () => ({
          path: `${cluster}.audience`,
          message:
            'must name at least one audience when token_verification = "jwks" (the API server\'s own audiences are only known to TokenReview)',
        }),
      ],
      [
        'with a kube_config_file that does not exist',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, kube_config_file: '"missing.yaml"' } })],
        (dir) => ({
          path: `${cluster}.kube_config_file`,
          message: `cannot read ${JSON.stringify(join(dir, 'missing.yaml'))}: no such file`,
        }),
      ],
      [
        'with a kube_api_timeout that is not a duration',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, kube_api_timeout: '"5"' } })],
        () => ({
          path: `${cluster}.kube_api_timeout`,
          message:
            'must be a duration from 1ms to 10m such as "5s" or "500ms"; got "5": missing unit after "5" (units: ns, us, ms, s, m, h)',
        }),
      ],
      [
        'with a kube_api_timeout longer than any agent waits (and past what a Node timer holds)',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, kube_api_timeout: '"600h"' } })],
        () => ({
          path: `${cluster}.kube_api_timeout`,
          message: 'must be a duration from 1ms to 10m such as "5s" or "500ms"; got "600h"',
        }),
      ],
      [
        'with a kube_api_timeout of zero',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, kube_api_timeout: '"0s"' } })],
        () => ({
          path: `${cluster}.kube_api_timeout`,
          message: 'must be a duration from 1ms to 10m such as "5s" or "500ms"; got "0s"',
        }),
      ],
      [
        'with a kube_config_file whose credentials @kubernetes/client-node would drop',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, kube_config_file: '"impersonating.kubeconfig"' } })],
        (dir) => ({
          path: `${cluster}.kube_config_file`,
          message: `${JSON.stringify(join(dir, 'impersonating.kubeconfig'))}: kubeconfig user "srv" sets "as-groups", which @kubernetes/client-node ignores (the calls would not impersonate those groups); remove it, or impersonate with "as" only`,
        }),
      ],
      [
        'with an invalid label key',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, allowed_pod_label_keys: '["bad key"]' } })],
        () => ({
          path: `${cluster}.allowed_pod_label_keys[0]`,
          message: 'must be a Kubernetes label key such as "topology.kubernetes.io/zone"; got "bad key"',
        }),
      ],
      [
        'with use_pod_uid_for_agent_id given as a string',
        [SQLITE, psat({ demo: { ...PSAT_CLUSTER, use_pod_uid_for_agent_id: '"yes"' } })],
        () => ({ path: `${cluster}.use_pod_uid_for_agent_id`, message: 'must be true or false; got "yes"' }),
      ],
      [
        'k8s_sat with local keys but no service_account_key_file',
        [SQLITE, sat({ legacy: PSAT_CLUSTER })],
        () => ({
          path: `${satCluster}.service_account_key_file`,
          message:
            'is required for cluster "legacy" when use_token_review_api_validation = false (the default); ' +
            "expected the PEM file of the API server's service account public keys",
        }),
      ],
      [
        'k8s_sat with a service_account_key_file that does not exist',
        [SQLITE, sat({ legacy: { ...PSAT_CLUSTER, service_account_key_file: '"/nonexistent/sa.pub"' } })],
        () => ({
          path: `${satCluster}.service_account_key_file`,
          message: 'cannot read "/nonexistent/sa.pub": no such file',
        }),
      ],
      [
        'k8s_sat with both TokenReview and a key file',
        [
          SQLITE,
          sat({
            legacy: {
              ...PSAT_CLUSTER,
              use_token_review_api_validation: 'true',
              service_account_key_file: keyFile,
            },
          }),
        ],
        () => ({
          path: `${satCluster}.service_account_key_file`,
          message: 'is only used when use_token_review_api_validation = false; remove one of the two',
        }),
      ],
      [
        'k8s_sat with local keys and a kube_config_file',
        [
          SQLITE,
          sat({
            legacy: {
              ...PSAT_CLUSTER,
              service_account_key_file: keyFile,
              kube_config_file: '"kubeconfig.yaml"',
            },
          }),
        ],
        () => ({
          path: `${satCluster}.kube_config_file`,
          message:
            'is only used when use_token_review_api_validation = true (the API server is not called otherwise)',
        }),
      ],
      [
        'k8s_sat with local keys and a kube_api_timeout',
        [
          SQLITE,
          sat({ legacy: { ...PSAT_CLUSTER, service_account_key_file: keyFile, kube_api_timeout: '"5s"' } }),
        ],
        () => ({
          path: `${satCluster}.kube_api_timeout`,
          message:
            'is only used when use_token_review_api_validation = true (the API server is not called otherwise)',
        }),
      ],
      [
        'k8s_sat with TokenReview and a service_account_issuer',
        [
          SQLITE,
          sat({
            legacy: {
              ...PSAT_CLUSTER,
              use_token_review_api_validation: 'true',
              service_account_issuer: '"https://kubernetes.default.svc.cluster.local"',
            },
          }),
        ],
        () => ({
          path: `${satCluster}.service_account_issuer`,
          message:
            'is only used when use_token_review_api_validation = false (the API server checks the issuer otherwise)',
        }),
      ],
    ])('%s', async (_name, plugins, issue) => {
      expect(await issuesOf(configText({ plugins }))).toEqual([issue(dir)])
    })
  })

  describe('the Notifier "k8sbundle" plugin', () => {
    const notifier = (pluginData: Settings | undefined) =>
      pluginData === undefined
        ? 'Notifier "k8sbundle" {\n}'
        : `Notifier "k8sbundle" {\nplugin_data {\n${attributes(pluginData)}\n}\n}`
    const path = 'plugins.Notifier.k8sbundle.plugin_data'

    it("is off without the block, and takes SPIRE's defaults from an empty one", async () => {
      expect((await parse(configText())).bundleNotifier).toBeUndefined()
      const expected = {
        namespace: 'spire',
        configMap: 'spire-bundle',
        configMapKey: 'bundle.crt',
        kubeConfigFile: undefined,
      }
      for (const block of [notifier(undefined), notifier({})]) {
        const config = await parse(configText({ plugins: [SQLITE, psat(), block] }))
        expect(config.bundleNotifier).toEqual(expected)
      }
    })

    it('reads every key, the kubeconfig path resolved against the file and checked', async () => {
      const config = await parse(
        configText({
          plugins: [
            SQLITE,
            psat(),
            notifier({
              namespace: '"k8s-attest"',
              config_map: '"trust.bundle"',
              config_map_key: '"ca_bundle.pem"',
              kube_config_file_path: '"kubeconfig.yaml"',
            }),
          ],
        }),
      )
      expect(config.bundleNotifier).toEqual({
        namespace: 'k8s-attest',
        configMap: 'trust.bundle',
        configMapKey: 'ca_bundle.pem',
        kubeConfigFile: join(dir, 'kubeconfig.yaml'),
      })
    })

    it('cannot be changed by a reload', async () => {
      const { changedNonReloadableKeys } = await import('../reload/config-diff.ts')
      const running = await parse(configText())
      const next = await parse(configText({ plugins: [SQLITE, psat(), notifier({})] }))
      expect(changedNonReloadableKeys(running, next)).toEqual(['plugins.Notifier "k8sbundle"'])
    })

    it.each<[string, string, (dir: string) => ConfigIssue]>([
      [
        'of an unknown kind',
        'Notifier "gcs_bucket" {\nplugin_data {\n}\n}',
        () => ({
          path: 'plugins.Notifier.gcs_bucket',
          message:
            'is not a known Notifier plugin; expected Notifier "k8sbundle" { plugin_data { namespace = "spire" } }',
        }),
      ],
      [
        'with a namespace that is no DNS-1123 label',
        notifier({ namespace: '"Spire"' }),
        () => ({
          path: `${path}.namespace`,
          message:
            'must be a Kubernetes namespace (a DNS-1123 label: at most 63 lowercase letters, digits and "-"); got "Spire"',
        }),
      ],
      [
        'with a config_map that is no ConfigMap name',
        notifier({ config_map: '"spire_bundle"' }),
        () => ({
          path: `${path}.config_map`,
          message:
            'must be a ConfigMap name (a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and "."); got "spire_bundle"',
        }),
      ],
      [
        'with a config_map_key that is no data key',
        notifier({ config_map_key: '"bundle/crt"' }),
        () => ({
          path: `${path}.config_map_key`,
          message:
            'must be a ConfigMap data key (at most 253 letters, digits, "-", "_" and "."); got "bundle/crt"',
        }),
      ],
      [
        'with a config_map_key kubelet could not make a file of',
        notifier({ config_map_key: '"..data"' }),
        () => ({
          path: `${path}.config_map_key`,
          message: 'must be a ConfigMap data key (not ".", ".." or a name starting with ".."); got "..data"',
        }),
      ],
      [
        "with the attestors' key name for the kubeconfig",
        notifier({ kube_config_file: '"kubeconfig.yaml"' }),
        () => ({
          path: `${path}.kube_config_file`,
          message: "is not supported: here it is kube_config_file_path, as in SPIRE's k8sbundle",
        }),
      ],
      [
        "with SPIRE's webhook_label, which k8s-attest does not have",
        notifier({ webhook_label: '"spiffe.io/webhook"' }),
        () => ({
          path: `${path}.webhook_label`,
          message: "is not supported: k8s-attest's k8sbundle publishes to a ConfigMap only",
        }),
      ],
      [
        'with a kube_config_file_path that does not exist',
        notifier({ kube_config_file_path: '"missing.yaml"' }),
        (dir) => ({
          path: `${path}.kube_config_file_path`,
          message: `cannot read ${JSON.stringify(join(dir, 'missing.yaml'))}: no such file`,
        }),
      ],
    ])('refuses it %s', async (_name, block, issue) => {
      expect(await issuesOf(configText({ plugins: [SQLITE, psat(), block] }))).toEqual([issue(dir)])
    })
  })
})
