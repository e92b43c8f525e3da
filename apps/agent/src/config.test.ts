import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ConfigError } from '@k8s-attest/spire-config'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCa } from '../test/test-ca.ts'
import { AGENT_CONFIG_DEFAULTS, loadAgentConfig, parseAgentConfig } from './config.ts'

let dir: string
let bundlePath: string
let configPath: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agent-config-'))
  bundlePath = join(dir, 'bundle.pem')
  configPath = join(dir, 'agent.conf')
  await writeFile(bundlePath, (await TestCa.create()).certPem)
})
afterAll(() => rm(dir, { recursive: true, force: true }))

const PSAT = `
plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster = "demo"
    }
  }
}`

function agentBlock(lines: string): string {
  return `agent {\n${lines}\n}\n`
}

const MINIMAL_AGENT = `
  trust_domain = "example.org"
  server_address = "spire-server"
  data_dir = "./data"
  trust_bundle_path = "./bundle.pem"`

async function invalid(text: string, options = {}): Promise<ConfigError> {
  const error = await parseAgentConfig(text, configPath, options).then(
    () => undefined,
    (thrown: unknown) => thrown as ConfigError,
  )
  if (error === undefined) throw new Error('expected the configuration to be refused')
  return error
}

async function refusedLoad(path: string): Promise<ConfigError> {
  return loadAgentConfig(path).then(
    () => {
      throw new Error(`expected ${path} to be refused`)
    },
    (error: unknown) => error as ConfigError,
  )
}

describe('parseAgentConfig', () => {
  it('applies every default to a minimal k8s_psat configuration and resolves paths against the file', async () => {
    const config = await parseAgentConfig(agentBlock(MINIMAL_AGENT) + PSAT, configPath)
    expect(config).toMatchObject({
      configFile: configPath,
      trustDomain: 'example.org',
      serverAddress: 'spire-server',
      serverPort: 8081,
      dataDir: join(dir, 'data'),
      logLevel: 'info',
      nodeAttestor: { type: 'k8s_psat', cluster: 'demo', tokenPath: '/var/run/secrets/tokens/spire-agent' },
      retryInitialIntervalMs: AGENT_CONFIG_DEFAULTS.retryInitialIntervalMs,
      retryMaxIntervalMs: AGENT_CONFIG_DEFAULTS.retryMaxIntervalMs,
      connectTimeoutMs: AGENT_CONFIG_DEFAULTS.connectTimeoutMs,
      requestTimeoutMs: AGENT_CONFIG_DEFAULTS.requestTimeoutMs,
      metrics: undefined,
    })
    expect(config.trustBootstrap).toEqual({ kind: 'bundle_file', path: bundlePath })
  })

  it('reads k8s_sat with its own default token path, and every optional key', async () => {
    const text = `${agentBlock(`
  trust_domain = "example.org"
  server_address = "10.0.0.1"
  server_port = 443
  data_dir = "/var/lib/agent"
  insecure_bootstrap = true
  log_level = "DEBUG"
  retry_initial_interval = "500ms"
  retry_max_interval = "2m"
  connect_timeout = "3s"
  request_timeout = "15s"`)}
plugins {
  NodeAttestor "k8s_sat" {
    plugin_data {
      cluster = "prod"
    }
  }
}
telemetry {
  Prometheus {
    port = 9988
  }
}`
    const config = await parseAgentConfig(text, configPath)
    expect(config).toMatchObject({
      serverAddress: '10.0.0.1',
      serverPort: 443,
      dataDir: '/var/lib/agent',
      trustBootstrap: { kind: 'insecure' },
      logLevel: 'debug',
      retryInitialIntervalMs: 500,
      retryMaxIntervalMs: 120_000,
      connectTimeoutMs: 3000,
      requestTimeoutMs: 15_000,
      nodeAttestor: {
        type: 'k8s_sat',
        cluster: 'prod',
        tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      },
      metrics: { host: '127.0.0.1', port: 9988 },
    })
  })

  it('reads trust_bundle_url with its format', async () => {
    const config = await parseAgentConfig(
      agentBlock(`
  trust_domain = "example.org"
  server_address = "spire-server"
  data_dir = "/d"
  trust_bundle_url = "https://bundles.example.org/example.org"
  trust_bundle_format = "spiffe"`) + PSAT,
      configPath,
    )
    expect(config.trustBootstrap).toEqual({
      kind: 'bundle_url',
      url: new URL('https://bundles.example.org/example.org'),
      format: 'spiffe',
    })
  })

  it('lists every problem at once, each with its key path and what was expected', async () => {
    const error = await invalid(`
agent {
  trust_domain = "Example.org"
  server_port = "8081"
  data_dir = "/d"
  log_level = "verbose"
  retry_initial_interval = "soon"
  sever_address = "typo"
  join_token = "abc"
}
plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      token_path = "/t"
      audience = ["x"]
    }
  }
}`)
    expect(error.code).toBe('ATT_ERR_CONFIG_INVALID')
    expect(error.issues).toEqual([
      { path: 'agent.trust_domain', message: expect.stringContaining('lowercase') },
      {
        path: 'agent.server_address',
        message: 'is required; expected a host name or IP address such as "spire-server"',
      },
      { path: 'agent.server_port', message: 'must be an integer from 1 to 65535; got "8081"' },
      {
        path: 'agent',
        message:
          'needs a way to trust the server the first time: set trust_bundle_path, trust_bundle_url or insecure_bootstrap = true',
      },
      { path: 'agent.log_level', message: 'must be "DEBUG", "INFO", "WARN" or "ERROR"; got "verbose"' },
      {
        path: 'agent.retry_initial_interval',
        message: expect.stringContaining('must be a duration of at least 10ms such as "1s"; got "soon"'),
      },
      {
        path: 'agent.join_token',
        message:
          'is not supported: this agent attests only with Kubernetes service account tokens (k8s_psat, k8s_sat)',
      },
      { path: 'agent.sever_address', message: 'is not a known key here; did you mean "server_address"?' },
      {
        path: 'plugins.NodeAttestor.k8s_psat.plugin_data.cluster',
        message: 'is required; expected the cluster name configured on the server, such as "demo"',
      },
      {
        path: 'plugins.NodeAttestor.k8s_psat.plugin_data.audience',
        message: 'is not a known key here; expected one of: cluster, token_path',
      },
    ])
    expect(error.message).toContain('invalid agent configuration')
    expect(error.message).toContain('(10 problems)')
  })

  it('requires the agent and plugins blocks', async () => {
    const error = await invalid('')
    expect(error.issues).toEqual([
      { path: 'agent', message: 'is required; expected a block, agent { … }' },
      { path: 'plugins', message: 'is required; expected a block, plugins { … }' },
    ])
  })

  it('refuses a cluster name the server could not have, which would fail every attestation', async () => {
    const error = await invalid(`${agentBlock(MINIMAL_AGENT)}plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster = "demo/prod"
    }
  }
}`)
    expect(error.issues).toEqual([
      {
        path: 'plugins.NodeAttestor.k8s_psat.plugin_data.cluster',
        message:
          'is not a usable cluster name: it becomes a SPIFFE ID path segment, so it may contain only letters, digits, ".", "-" and "_" (and is not "." or ".."); got "demo/prod"',
      },
    ])
  })

  it('requires exactly one NodeAttestor, of a supported type', async () => {
    const none = await invalid(`${agentBlock(MINIMAL_AGENT)}plugins {}`)
    expect(none.issues).toEqual([
      { path: 'plugins.NodeAttestor', message: expect.stringContaining('is required') },
    ])

    const two = await invalid(`${agentBlock(MINIMAL_AGENT)}plugins {
  NodeAttestor "k8s_psat" {
    plugin_data {
      cluster = "a"
    }
  }
  NodeAttestor "k8s_sat" {
    plugin_data {
      cluster = "a"
    }
  }
}`)
    expect(two.issues).toEqual([
      {
        path: 'plugins.NodeAttestor',
        message: 'is configured 2 times (k8s_psat, k8s_sat); configure exactly one',
      },
    ])

    const unsupported = await invalid(`${agentBlock(MINIMAL_AGENT)}plugins {
  NodeAttestor "join_token" {
    plugin_data {}
  }
  KeyManager "disk" {
    plugin_data {}
  }
}`)
    expect(unsupported.issues).toEqual([
      {
        path: 'plugins.KeyManager',
        message: expect.stringContaining('is not supported: the agent keeps its key'),
      },
      {
        path: 'plugins.NodeAttestor.join_token',
        message: 'is not a supported node attestor; expected "k8s_psat" or "k8s_sat"',
      },
    ])
  })

  it('requires exactly one trust bootstrap', async () => {
    const error = await invalid(
      agentBlock(`${MINIMAL_AGENT}
  insecure_bootstrap = true`) + PSAT,
    )
    expect(error.issues).toEqual([
      {
        path: 'agent',
        message:
          'sets trust_bundle_path and insecure_bootstrap; set exactly one of trust_bundle_path, trust_bundle_url, insecure_bootstrap = true',
      },
    ])
  })

  it('refuses a trust_bundle_url that is not https, and a format without a URL', async () => {
    const error = await invalid(
      agentBlock(`
  trust_domain = "example.org"
  server_address = "spire-server"
  data_dir = "/d"
  trust_bundle_url = "http://bundles.example.org/"`) + PSAT,
    )
    expect(error.issues).toEqual([
      {
        path: 'agent.trust_bundle_url',
        message: 'must be an https:// URL; got "http://bundles.example.org/"',
      },
    ])
    const format = await invalid(
      agentBlock(`${MINIMAL_AGENT}
  trust_bundle_format = "pem"`) + PSAT,
    )
    expect(format.issues).toEqual([
      {
        path: 'agent.trust_bundle_format',
        message: 'applies only to trust_bundle_url (trust_bundle_path is always PEM)',
      },
    ])
  })

  it('names trust_bundle_path without reading it: the agent reads the file when it bootstraps', async () => {
    // Neither healthcheck nor a restart with a bundle in data_dir may fail on the file's content.
    const config = await parseAgentConfig(
      agentBlock(MINIMAL_AGENT.replace('./bundle.pem', './not-there-yet.pem')) + PSAT,
      configPath,
    )
    expect(config.trustBootstrap).toEqual({ kind: 'bundle_file', path: join(dir, 'not-there-yet.pem') })
  })

  it('refuses HCL expressions it would not evaluate, pointing at -expandEnv', async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template expression, the input under test.
    const error = await invalid(agentBlock(MINIMAL_AGENT.replace('"spire-server"', '"${SERVER}"')) + PSAT)
    expect(error.issues).toEqual([
      { path: 'agent.server_address', message: expect.stringContaining('is not evaluated') },
    ])
  })

  it('substitutes environment variables with expandEnv', async () => {
    const text = agentBlock(MINIMAL_AGENT.replace('"spire-server"', '"$SERVER"')) + PSAT
    const config = await parseAgentConfig(text, configPath, {
      expandEnv: true,
      env: { SERVER: 'attest.example.org' },
    })
    expect(config.serverAddress).toBe('attest.example.org')
  })

  it('refuses server addresses with a scheme or port', async () => {
    const error = await invalid(
      agentBlock(MINIMAL_AGENT.replace('"spire-server"', '"https://spire-server:8081"')) + PSAT,
    )
    expect(error.issues).toEqual([
      { path: 'agent.server_address', message: expect.stringContaining('without scheme or port') },
    ])
  })

  it('checks the telemetry block', async () => {
    const error = await invalid(`${agentBlock(MINIMAL_AGENT)}${PSAT}
telemetry {
  Prometheus {
    host = "localhost"
  }
  Statsd {}
}`)
    expect(error.issues).toEqual([
      { path: 'telemetry.Statsd', message: 'is not supported: only Prometheus is supported' },
      {
        path: 'telemetry.Prometheus.host',
        message: 'must be an IP address such as "127.0.0.1"; got "localhost"',
      },
      { path: 'telemetry.Prometheus.port', message: 'is required; expected an integer from 0 to 65535' },
    ])
  })

  it('reports HCL syntax errors with their location', async () => {
    const error = await invalid('agent {\n  trust_domain = \n}')
    expect(error.code).toBe('ATT_ERR_CONFIG_SYNTAX')
    expect(error.issues).toEqual([
      {
        path: `${configPath}:2:18`,
        message: 'expected an expression (a value); found the end of the line',
      },
    ])
  })
})

describe('loadAgentConfig', () => {
  it('reads the file', async () => {
    await writeFile(configPath, agentBlock(MINIMAL_AGENT) + PSAT)
    expect((await loadAgentConfig(configPath)).trustDomain).toBe('example.org')
  })

  it('names a missing file and the -config flag', async () => {
    const missing = join(dir, 'missing.conf')
    const error = await refusedLoad(missing)
    expect(error).toMatchObject({
      code: 'ATT_ERR_CONFIG_UNREADABLE',
      issues: [
        {
          path: '',
          message: `cannot read the configuration file (no such file) at ${JSON.stringify(missing)}; pass its path with -config`,
        },
      ],
    })
    expect(error.message).toMatch(/^invalid agent configuration /)
  })
})

describe('conf/agent.conf', () => {
  it('is a valid configuration (its bundle file exists only in a deployment, and is read when used)', async () => {
    const example = new URL('../conf/agent.conf', import.meta.url).pathname
    expect((await loadAgentConfig(example)).trustBootstrap).toEqual({
      kind: 'bundle_file',
      path: '/run/spire/bundle/bundle.crt',
    })
  })
})
