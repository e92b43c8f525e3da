import { parseArgs } from 'node:util'
import { seedDemoCluster } from './demo-seed.ts'
import { SERVER_VERSION } from './discovery.ts'
import type { SigningAlgorithm } from './signing-key.ts'
import { type KubeTestApiOptions, startKubeTestApi } from './test-api.ts'

/**
 * Runs the Kubernetes test API on its own, for the demo and for poking at
 * it by hand:
 *
 *   node --conditions=@k8s-attest/source packages/kube-test-api/src/main.ts [options]
 *
 * It prints the URL and the path of an admin kubeconfig, and stops on
 * SIGINT or SIGTERM.
 */

const USAGE = `Usage: main.ts [options]
  --host <address>               listen address (default 127.0.0.1)
  --port <port>                  listen port (default 0: any free port)
  --seed <none|demo>             objects to start with (default none)
  --kubeconfig <path>            where to write the admin kubeconfig (default: a new temporary directory)
  --issuer <url>                 service account issuer (default https://kubernetes.default.svc.cluster.local)
  --signing-algorithm <RS256|ES256>  service account signing algorithm (default RS256)
  --help                         show this text`

interface CliOptions {
  readonly api: KubeTestApiOptions
  readonly seed: 'none' | 'demo'
  readonly kubeconfigPath: string | undefined
}

/** Parses the command line; every problem is listed, not just the first. */
export function parseCommandLine(
  argv: readonly string[],
): CliOptions | { readonly problems: readonly string[] } | 'help' {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        seed: { type: 'string' },
        kubeconfig: { type: 'string' },
        issuer: { type: 'string' },
        'signing-algorithm': { type: 'string' },
        help: { type: 'boolean' },
      },
    }))
  } catch (error) {
    return { problems: [error instanceof Error ? error.message : String(error)] }
  }
  if (values.help === true) return 'help'
  const problems: string[] = []
  const port = values.port === undefined ? 0 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    problems.push(`--port must be an integer from 0 to 65535, got "${String(values.port)}"`)
  }
  const seed = values.seed ?? 'none'
  if (seed !== 'none' && seed !== 'demo')
    problems.push(`--seed must be "none" or "demo", got "${String(seed)}"`)
  const algorithm = values['signing-algorithm'] ?? 'RS256'
  if (algorithm !== 'RS256' && algorithm !== 'ES256') {
    problems.push(`--signing-algorithm must be RS256 or ES256, got "${String(algorithm)}"`)
  }
  const issuer = values.issuer
  if (typeof issuer === 'string' && !URL.canParse(issuer))
    problems.push(`--issuer must be a URL, got "${issuer}"`)
  if (problems.length > 0) return { problems }
  return {
    api: {
      host: typeof values.host === 'string' ? values.host : '127.0.0.1',
      port,
      signingAlgorithm: algorithm as SigningAlgorithm,
      ...(typeof issuer === 'string' ? { issuer } : {}),
    },
    seed: seed as 'none' | 'demo',
    kubeconfigPath: typeof values.kubeconfig === 'string' ? values.kubeconfig : undefined,
  }
}

async function main(): Promise<void> {
  const parsed = parseCommandLine(process.argv.slice(2))
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return
  }
  if ('problems' in parsed) {
    process.stderr.write(`${parsed.problems.map((problem) => `error: ${problem}`).join('\n')}\n\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  const api = await startKubeTestApi(parsed.api)
  if (parsed.seed === 'demo') {
    const seed = seedDemoCluster(api)
    process.stdout.write(
      `seeded namespace ${seed.namespace}: ${seed.nodes.length} nodes, ${seed.agentPods.length} agent pods\n`,
    )
  }
  const kubeconfigPath = await api.writeKubeconfig(
    parsed.kubeconfigPath === undefined ? {} : { path: parsed.kubeconfigPath },
  )
  process.stdout.write(
    `kube-test-api (${SERVER_VERSION.gitVersion}) serving ${api.url}\nkubeconfig: ${kubeconfigPath}\n`,
  )

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    process.stdout.write(`${signal}: stopping\n`)
    api.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`failed to stop cleanly: ${String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `kube-test-api failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  })
}
