import type { AgentView } from '@k8s-attest/core'
import type { ExitStatus } from './child-process.ts'

/**
 * The attested agents as a fixed-width table, one line per agent, for a terminal. The state is
 * the server's record joined with what the demo knows of each agent's process: a banned record
 * is `banned`, an agent whose process ended is `stopped` however fresh its record, an SVID past
 * its expiry is `expired`.
 *
 * @param exitStatusByNode How each agent process (by node name) ended; a node absent or
 *   mapped to `undefined` runs.
 */
export function formatAgentsTable(
  agents: readonly AgentView[],
  now: Date,
  exitStatusByNode: ReadonlyMap<string, ExitStatus | undefined> = new Map(),
): string {
  const rows = agents.map((agent) => {
    const node = nodeOf(agent)
    const exited = exitStatusByNode.get(node)
    const expiresInS = Math.round((Date.parse(agent.svid_expires_at) - now.getTime()) / 1000)
    const state = agent.banned
      ? 'banned'
      : exited !== undefined
        ? `stopped (${typeof exited === 'number' ? `exit ${exited}` : exited})`
        : expiresInS <= 0
          ? 'expired'
          : 'attested'
    return [
      agent.spiffe_id,
      node,
      state,
      `${Math.max(0, expiresInS)}s`,
      agent.last_attested_at.replace(/\.\d+Z$/, 'Z'),
    ]
  })
  const header = ['SPIFFE ID', 'NODE', 'STATE', 'SVID EXPIRES IN', 'LAST ATTESTED']
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  )
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

function nodeOf(agent: AgentView): string {
  const prefix = 'agent_node_name:'
  return (
    agent.selectors.find((selector) => selector.value.startsWith(prefix))?.value.slice(prefix.length) ?? ''
  )
}
