import { AGENT_VERB_FLAGS, AGENT_VERBS, runAgentCommand } from './agent-commands.ts'
import type { CliIo } from './cli-io.ts'
import { UsageError, usage } from './flags.ts'
import { RUN_FLAGS, runServer } from './run.ts'

const COMMANDS = `Usage: k8s-attest-server <command> [<args>]

Available commands are:
    run                  Runs the server
    agent list           Lists attested agents
    agent show           Shows the details of an attested agent
    agent evict          Evicts an attested agent (it may attest again)
    agent ban            Bans an attested agent (refused until evicted)
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
    io.stderr(COMMANDS)
    return command === undefined || command === '-h' || command === '--help' ? 0 : 2
  } catch (error) {
    if (error instanceof UsageError) {
      const verb = rest[0]
      const specs =
        command === 'run'
          ? RUN_FLAGS
          : (AGENT_VERBS as readonly string[]).includes(verb ?? '')
            ? AGENT_VERB_FLAGS[verb as (typeof AGENT_VERBS)[number]]
            : []
      io.stderr(
        `${error.message}\n${usage(`${command} ${command === 'agent' ? (verb ?? '') : ''}`.trim(), specs)}\n`,
      )
      return 2
    }
    throw error
  }
}
