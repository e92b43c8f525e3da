import type { ExitStatus } from './child-process.ts'
import { AGENT_EXIT_CODES } from './system/agent-process.ts'

/** What the demo sees of one agent without asking the server: its process and its stored SVID. */
export interface AgentSnapshot {
  readonly nodeName: string
  /** `undefined` while the process runs. */
  readonly exitStatus: ExitStatus | undefined
  /** The SVID in the agent's data_dir, if it has stored one. */
  readonly svid:
    | { readonly spiffeId: string; readonly serialNumber: string; readonly notAfter: Date }
    | undefined
}

/**
 * One line per change between two looks at the agents, in agent order: a first SVID, a new one
 * (a rotation, or a new attestation after an eviction), a process that ended. Nothing changed,
 * nothing printed — the demo never reprints a whole table for one rotation.
 */
export function describeAgentChanges(
  before: readonly AgentSnapshot[],
  after: readonly AgentSnapshot[],
  now: Date,
): string[] {
  const lines: string[] = []
  const time = now.toISOString().slice(11, 19)
  for (const next of after) {
    const previous = before.find((snapshot) => snapshot.nodeName === next.nodeName)
    const svid = next.svid
    if (svid !== undefined && svid.serialNumber !== previous?.svid?.serialNumber) {
      const expires = `expires in ${Math.max(0, Math.round((svid.notAfter.getTime() - now.getTime()) / 1000))}s`
      lines.push(
        previous?.svid === undefined
          ? `${time}  ${next.nodeName}  attested: ${svid.spiffeId} (serial ${svid.serialNumber}, ${expires})`
          : previous.svid.spiffeId === svid.spiffeId
            ? `${time}  ${next.nodeName}  new SVID, serial ${svid.serialNumber} (${expires})`
            : `${time}  ${next.nodeName}  new SVID for ${svid.spiffeId}, serial ${svid.serialNumber} (${expires})`,
      )
    }
    if (next.exitStatus !== undefined && previous?.exitStatus === undefined) {
      lines.push(`${time}  ${next.nodeName}  agent stopped: ${describeExit(next.exitStatus)}`)
    }
  }
  return lines
}

/** An agent's exit status in words (apps/agent/src/cli.ts's exit codes). */
export function describeExit(status: ExitStatus): string {
  if (status === AGENT_EXIT_CODES.banned) return 'exit 3, banned by the server'
  if (status === AGENT_EXIT_CODES.ok) return 'exit 0'
  return typeof status === 'number' ? `exit ${status}, see its log` : `killed by ${status}`
}
