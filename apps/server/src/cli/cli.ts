import { AGENT_VERB_FLAGS, AGENT_VERBS, runAgentCommand } from './agent-commands.ts'
import type { CliIo } from './cli-io.ts'
import { type FlagSpec, UsageError, usage } from './flags.ts'
import { RUN_FLAGS, runServer } from './run.ts'
import { runX509Command, X509_MINT_FLAGS, X509_MINT_SYNOPSIS } from './x509-commands.ts'

const COMMANDS = `Usage: k8s-attest-server <command> [<args>]

Available commands are:
    run                  Runs the server
    agent list           Lists attested agents
    agent show           Shows the details of an attested agent
    agent evict          Evicts an attested agent (it may attest again)
    agent ban            Bans an attested agent (refused until evicted)
    x509 mint            Mints an admin X.509 SVID offline from the CA in data_dir
                         (for the agent verbs' -certFile/-keyFile)
`

/**
 * `k8s-attest-server`, with `spire-server`'s command layout.
 *
 * @returns the exit status (2 for bad usage).
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = args
  try {
    if (command === 'run') return await runServer(rest, io)
    if (command === 'agent') return await runAgentCommand(rest, io)
    if (command === 'x509') return await runX509Command(rest, io)
    io.stderr(COMMANDS)
    return command === undefined || command === '-h' || command === '--help' ? 0 : 2
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n${usageOf(command ?? '', rest[0])}\n`)
      return 2
    }
    throw error
  }
}

/** The usage text of `command` (and its verb, for `agent` and `x509`). */
function usageOf(command: string, verb: string | undefined): string {
  if (command === 'run') return usage('run', RUN_FLAGS)
  if (command === 'x509') {
    return verb === 'mint' ? `${X509_MINT_SYNOPSIS}\n\n${usage('x509 mint', X509_MINT_FLAGS)}` : COMMANDS
  }
  const specs: readonly FlagSpec[] = (AGENT_VERBS as readonly string[]).includes(verb ?? '')
    ? AGENT_VERB_FLAGS[verb as (typeof AGENT_VERBS)[number]]
    : []
  return usage(`agent ${verb ?? ''}`.trim(), specs)
}
