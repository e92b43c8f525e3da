import type { AgentView } from './api.ts'

/** What the table shows of an agent's state. Banned wins; otherwise the SVID decides. */
export type AgentState = 'attested' | 'expired' | 'banned'

/** The agent's state at `now`. */
export function stateOf(agent: AgentView, now: number): AgentState {
  if (agent.banned) return 'banned'
  return Date.parse(agent.svid_expires_at) > now ? 'attested' : 'expired'
}

/**
 * The value of the agent's selector `<attestor>:<name>:<value>`, e.g. its node name from
 * `k8s_psat:agent_node_name:<node>`. A k8s_sat agent has no node or pod selectors.
 */
export function selectorValue(agent: AgentView, name: string): string | undefined {
  const prefix = `${name}:`
  return agent.selectors.find((selector) => selector.value.startsWith(prefix))?.value.slice(prefix.length)
}

/** `2m 05s`, `1h 02m`, `3d 4h`: the time left until `at`, or `expired` once it is past. */
export function countdown(at: string, now: number): string {
  const seconds = Math.floor((Date.parse(at) - now) / 1000)
  if (seconds <= 0) return 'expired'
  const days = Math.floor(seconds / 86_400)
  const hours = Math.floor((seconds % 86_400) / 3600)
  const minutes = Math.floor((seconds % 3600) / 60)
  const rest = seconds % 60
  if (days > 0) return `${days}d ${hours}h`
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`
  if (minutes > 0) return `${minutes}m ${String(rest).padStart(2, '0')}s`
  return `${rest}s`
}

/** `12 s ago`, `3 min ago`, or the UTC date and time when longer ago than an hour. */
export function ago(at: string, now: number): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(at)) / 1000))
  if (seconds < 60) return `${seconds} s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`
  return `${at.slice(0, 16).replace('T', ' ')} UTC`
}
