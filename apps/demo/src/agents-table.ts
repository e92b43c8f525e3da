import type { AgentView } from '@k8s-attest/core'

/** The attested agents as a fixed-width table, one line per agent, for a terminal. */
export function formatAgentsTable(agents: readonly AgentView[], now: Date): string {
  const rows = agents.map((agent) => [
    agent.spiffe_id,
    nodeOf(agent),
    agent.banned ? 'banned' : 'attested',
    `${Math.max(0, Math.round((Date.parse(agent.svid_expires_at) - now.getTime()) / 1000))}s`,
    agent.last_attested_at.replace(/\.\d+Z$/, 'Z'),
  ])
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
