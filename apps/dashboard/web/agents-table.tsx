import { ago, countdown, selectorValue, stateOf } from './agent-fields.ts'
import type { AgentView } from './api.ts'

/** Props of {@link AgentsTable}. */
export interface AgentsTableProps {
  readonly agents: readonly AgentView[]
  readonly now: number
  readonly onShow: (agent: AgentView) => void
  readonly onEvict: (agent: AgentView) => void
  readonly onBan: (agent: AgentView) => void
}

/** Selectors shown in the table; the detail view lists all of them. */
const SELECTORS_IN_TABLE = 2

/**
 * The selectors that say most beside the node and pod columns: the service account's namespace
 * and name, which workload entries are usually keyed on; otherwise the first ones.
 */
function tableSelectors(agent: AgentView): string[] {
  const values = agent.selectors.map((selector) => selector.value)
  const preferred = values.filter((value) => value.startsWith('agent_ns:') || value.startsWith('agent_sa:'))
  return (preferred.length > 0 ? preferred : values).slice(0, SELECTORS_IN_TABLE)
}

/**
 * One page of agents. On a narrow screen each row becomes a card (see styles.css), every cell
 * labelled by its column's name.
 */
export function AgentsTable({ agents, now, onShow, onEvict, onBan }: AgentsTableProps) {
  if (agents.length === 0) return <p class="empty">No agents match.</p>
  return (
    <table class="agents">
      <caption class="visually-hidden">Attested agents</caption>
      <thead>
        <tr>
          <th scope="col">SPIFFE ID</th>
          <th scope="col">Cluster</th>
          <th scope="col">Attestor</th>
          <th scope="col">Node</th>
          <th scope="col">Pod</th>
          <th scope="col">Selectors</th>
          <th scope="col">SVID expires in</th>
          <th scope="col">Last attested</th>
          <th scope="col">State</th>
          <th scope="col">
            <span class="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {agents.map((agent) => {
          const state = stateOf(agent, now)
          const node = selectorValue(agent, 'agent_node_name')
          const hidden = agent.selectors.length - SELECTORS_IN_TABLE
          return (
            <tr key={agent.spiffe_id} data-spiffe-id={agent.spiffe_id}>
              <td data-label="SPIFFE ID">
                <button type="button" class="link spiffe-id" onClick={() => onShow(agent)}>
                  {agent.spiffe_id}
                </button>
              </td>
              <td data-label="Cluster">{agent.cluster}</td>
              <td data-label="Attestor">{agent.attestor}</td>
              <td data-label="Node" class="node">
                {node ?? '—'}
              </td>
              <td data-label="Pod">{selectorValue(agent, 'agent_pod_name') ?? '—'}</td>
              <td data-label="Selectors" class="mono selectors-cell">
                <div>
                  {tableSelectors(agent).map((value) => (
                    <span key={value}>{value}</span>
                  ))}
                  {hidden > 0 ? <span class="more">+{hidden} more</span> : null}
                </div>
              </td>
              <td data-label="SVID expires in" class="countdown">
                <time dateTime={agent.svid_expires_at}>{countdown(agent.svid_expires_at, now)}</time>
              </td>
              <td data-label="Last attested">
                <time dateTime={agent.last_attested_at}>{ago(agent.last_attested_at, now)}</time>
              </td>
              <td data-label="State">
                <span class={`state state-${state}`}>{state}</span>
              </td>
              <td class="row-actions">
                <div>
                  <button
                    type="button"
                    class="danger small"
                    onClick={() => onEvict(agent)}
                    aria-label={`Evict ${node ?? agent.spiffe_id}`}
                  >
                    Evict
                  </button>
                  <button
                    type="button"
                    class="danger small"
                    onClick={() => onBan(agent)}
                    disabled={agent.banned}
                    aria-label={`Ban ${node ?? agent.spiffe_id}`}
                  >
                    Ban
                  </button>
                </div>
              </td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}
