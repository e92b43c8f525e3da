import type { ClusterChanges, ConfigReloadResponse } from '@k8s-attest/core'
import { CONNECTION_FLAGS, withAdminClient } from './agent-commands.ts'
import type { CliIo } from './cli-io.ts'
import { type FlagSpec, parseFlags, UsageError } from './flags.ts'

/** The flags of `reload`: only how to reach the server. */
export const RELOAD_FLAGS: readonly FlagSpec[] = CONNECTION_FLAGS

const ATTESTORS = ['k8s_psat', 'k8s_sat'] as const
const CHANGE_KINDS = ['added', 'changed', 'removed'] as const satisfies readonly (keyof ClusterChanges)[]

/**
 * `k8s-attest-server reload`: has a running server re-read its configuration file
 * (`POST /v1/admin/reload`, what SIGHUP does, for an operator who cannot signal the process).
 * The server reads the file it was started with; `-config` here only says where the server is
 * and how to authenticate, as for the `agent` verbs. A file the server refuses is printed with
 * every problem, exit 1, and the server keeps its running configuration.
 *
 * @returns the exit status: 0 when reloaded, 1 when refused or unreachable.
 * @throws {UsageError} for bad flags.
 */
export async function runReloadCommand(args: readonly string[], io: CliIo): Promise<number> {
  const flags = parseFlags(args, RELOAD_FLAGS)
  if (flags.rest.length > 0) {
    throw new UsageError(`reload takes no arguments, got ${JSON.stringify(flags.rest.join(' '))}`)
  }
  return withAdminClient(flags, io, async (client, print) => {
    const answer = await client.reload()
    print(answer, formatReload(answer))
    return 0
  })
}

/** One line per attestor and kind of change; "no cluster changed" when there is none. */
function formatReload(answer: ConfigReloadResponse): string {
  const lines = ATTESTORS.flatMap((attestor) =>
    CHANGE_KINDS.filter((kind) => answer[attestor][kind].length > 0).map(
      (kind) => `${`${attestor} clusters ${kind}`.padEnd(26)}: ${answer[attestor][kind].join(', ')}`,
    ),
  )
  return [
    `Configuration reloaded from ${answer.config_file}`,
    ...(lines.length === 0 ? ['No cluster changed'] : lines),
    '',
  ].join('\n')
}
