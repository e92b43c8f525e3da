import type { Overview } from './api.ts'

/** Props of {@link ServerStatus}. */
export interface ServerStatusProps {
  readonly overview: Overview | undefined
}

/**
 * Readiness and agent counts. When the server is not ready, each self-check finding is listed
 * in words (a missing RBAC rule, a datastore that does not answer), not just a red dot.
 */
export function ServerStatus({ overview }: ServerStatusProps) {
  if (overview === undefined) return <p class="status">Checking the server…</p>
  const { attested, expired, banned } = overview.agents
  return (
    <div class="status">
      <p>
        <span class={overview.ready ? 'state state-attested' : 'state state-banned'}>
          {overview.ready ? 'ready' : 'not ready'}
        </span>{' '}
        <span data-testid="agent-counts">
          {attested} attested · {expired} expired · {banned} banned
        </span>
      </p>
      {overview.ready ? null : (
        <ul class="findings" role="alert" aria-label="Why the server is not ready">
          {overview.problems.map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      )}
    </div>
  )
}
