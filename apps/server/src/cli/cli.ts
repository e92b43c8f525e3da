import type { CliIo } from './cli-io.ts'
import { type FlagSpec, UsageError, usage } from './flags.ts'

const COMMANDS = `Usage: k8s-attest-server <command> [<args>]

Available commands are:
    run                  Runs the server
    agent list           Lists attested agents
    agent show           Shows the details of an attested agent
    agent evict          Evicts an attested agent (it may attest again)
    agent ban            Bans an attested agent (refused until evicted)
    reload               Has the running server re-read its configuration file (as SIGHUP)
    x509 mint            Mints an admin X.509 SVID offline from the CA in data_dir
                         (for the agent verbs' -certFile/-keyFile)

The agent verbs and reload take the server's address, CA bundle and admin token from -config server.conf.
`

/** A command: how to run it, and its usage text when its flags are wrong. */
interface Command {
  run(args: readonly string[], io: CliIo): Promise<number>
  usageOf(verb: string | undefined): string
}

/**
 * Each command's module is imported only when that command runs: `run` needs fastify, the
 * Kubernetes client, the datastore drivers and the CA, while `agent list` needs an HTTPS client
 * and nothing else, and an operator's CLI call should not pay seconds for what it never uses.
 */
const COMMAND_MODULES: Readonly<Record<string, () => Promise<Command>>> = {
  run: async () => {
    const { RUN_FLAGS, runServer } = await import('./run.ts')
    return { run: runServer, usageOf: () => usage('run', RUN_FLAGS) }
  },
  agent: async () => {
    const { AGENT_VERB_FLAGS, AGENT_VERBS, runAgentCommand } = await import('./agent-commands.ts')
    return {
      run: runAgentCommand,
      usageOf: (verb) => {
        const specs: readonly FlagSpec[] = (AGENT_VERBS as readonly string[]).includes(verb ?? '')
          ? AGENT_VERB_FLAGS[verb as (typeof AGENT_VERBS)[number]]
          : []
        return usage(`agent ${verb ?? ''}`.trim(), specs)
      },
    }
  },
  reload: async () => {
    const { RELOAD_FLAGS, runReloadCommand } = await import('./reload-command.ts')
    return { run: runReloadCommand, usageOf: () => usage('reload', RELOAD_FLAGS) }
  },
  x509: async () => {
    const { runX509Command, X509_MINT_FLAGS, X509_MINT_SYNOPSIS } = await import('./x509-commands.ts')
    return {
      run: runX509Command,
      usageOf: (verb) =>
        verb === 'mint' ? `${X509_MINT_SYNOPSIS}\n\n${usage('x509 mint', X509_MINT_FLAGS)}` : COMMANDS,
    }
  },
}

/**
 * `k8s-attest-server`, with `spire-server`'s command layout.
 *
 * @returns the exit status (2 for bad usage).
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args
  const load =
    command !== undefined && Object.hasOwn(COMMAND_MODULES, command) ? COMMAND_MODULES[command] : undefined
  if (load === undefined) {
    io.stderr(COMMANDS)
    return command === undefined || command === '-h' || command === '--help' ? 0 : 2
  }
  const module = await load()
  try {
    return await module.run(rest, io)
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n${module.usageOf(rest[0])}\n`)
      return 2
    }
    throw error
  }
}
