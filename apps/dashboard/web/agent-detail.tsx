import { ago, countdown, selectorValue, stateOf } from './agent-fields.ts'
import type { AgentView } from './api.ts'
import { ModalDialog } from './modal-dialog.tsx'

/** Props of {@link AgentDetail}. */
export interface AgentDetailProps {
  readonly agent: AgentView
  readonly now: number
  readonly onEvict: () => void
  readonly onBan: () => void
  readonly onClose: () => void
}

/** Everything the server recorded about one agent: every selector, the SVID's serial. */
export function AgentDetail({ agent, now, onEvict, onBan, onClose }: AgentDetailProps) {
  const state = stateOf(agent, now)
  return (
    <ModalDialog title="Agent" onClose={onClose}>
      <dl class="detail">
        <dt>SPIFFE ID</dt>
        <dd class="spiffe-id">{agent.spiffe_id}</dd>
        <dt>State</dt>
        <dd>
          <span class={`state state-${state}`}>{state}</span>
        </dd>
        <dt>Cluster</dt>
        <dd>{agent.cluster}</dd>
        <dt>Attestor</dt>
        <dd>{agent.attestor}</dd>
        <dt>Node</dt>
        <dd>{selectorValue(agent, 'agent_node_name') ?? '—'}</dd>
        <dt>Pod</dt>
        <dd>{selectorValue(agent, 'agent_pod_name') ?? '—'}</dd>
        <dt>SVID serial</dt>
        <dd class="mono" data-testid="svid-serial">
          {agent.svid_serial}
        </dd>
        <dt>SVID expires</dt>
        <dd>
          {agent.svid_expires_at} ({countdown(agent.svid_expires_at, now)})
        </dd>
        <dt>First attested</dt>
        <dd>{agent.first_attested_at}</dd>
        <dt>Last attested</dt>
        <dd>
          {agent.last_attested_at} ({ago(agent.last_attested_at, now)})
        </dd>
      </dl>
      <h3>Selectors ({agent.selectors.length})</h3>
      <ul class="selectors" aria-label="Selectors">
        {agent.selectors.map((selector) => (
          <li key={`${selector.type}:${selector.value}`} class="mono">
            {selector.type}:{selector.value}
          </li>
        ))}
      </ul>
      <div class="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
        <button type="button" class="danger" onClick={onEvict}>
          Evict…
        </button>
        <button type="button" class="danger" onClick={onBan} disabled={agent.banned}>
          Ban…
        </button>
      </div>
    </ModalDialog>
  )
}
