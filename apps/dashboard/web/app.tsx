import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { AgentDetail } from './agent-detail.tsx'
import { AgentFilters } from './agent-filters.tsx'
import { AgentsTable } from './agents-table.tsx'
import {
  type AgentListResponse,
  type AgentQuery,
  type AgentView,
  DashboardApi,
  type Overview,
  SignedOut,
} from './api.ts'
import { AttestationChart } from './attestation-chart.tsx'
import { ConfirmAction, type PendingAction } from './confirm-action.tsx'
import { ServerStatus } from './server-status.tsx'

/** How often the page and the overview are read again: the live updates. */
const REFRESH_MS = 3000
const SIGN_IN = '/dashboard/sign-in'
const PAGE_SIZES = [25, 50, 100] as const

/**
 * The dashboard: server status, the attestations chart, and the agents, one admin API page at
 * a time (the server pages by key, so a page costs the same at any depth of 100,000 agents).
 * The page and the overview are polled; the countdowns tick every second in between.
 */
export function App() {
  const api = useMemo(() => new DashboardApi(), [])
  const [started, setStarted] = useState(false)
  const [query, setQuery] = useState<AgentQuery>({ page_size: 50 })
  // Tokens of the pages before the current one; the last one is the current page's.
  const [tokens, setTokens] = useState<readonly (string | undefined)[]>([undefined])
  const [page, setPage] = useState<AgentListResponse | undefined>()
  const [overview, setOverview] = useState<Overview | undefined>()
  const [problem, setProblem] = useState<string | undefined>()
  const [notice, setNotice] = useState<string | undefined>()
  const [shown, setShown] = useState<AgentView | undefined>()
  const [pending, setPending] = useState<PendingAction | undefined>()
  const [busy, setBusy] = useState(false)
  const [now, setNow] = useState(Date.now())
  const skew = useRef(0)

  const fail = useCallback((error: unknown) => {
    if (error instanceof SignedOut) {
      window.location.assign(SIGN_IN)
      return
    }
    setProblem(error instanceof Error ? error.message : String(error))
  }, [])

  const refresh = useCallback(async () => {
    try {
      const [listed, seen] = await Promise.all([api.listAgents(query, tokens.at(-1)), api.overview()])
      skew.current = Date.parse(seen.server_time) - Date.now()
      setPage(listed)
      setOverview(seen)
      setProblem(undefined)
    } catch (error) {
      fail(error)
    }
  }, [api, query, tokens, fail])

  useEffect(() => {
    api.start().then(() => setStarted(true), fail)
  }, [api, fail])

  useEffect(() => {
    if (!started) return
    void refresh()
    const timer = setInterval(() => void refresh(), REFRESH_MS)
    return () => clearInterval(timer)
  }, [started, refresh])

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now() + skew.current), 1000)
    return () => clearInterval(timer)
  }, [])

  if (!started) return <p class="loading">Loading…</p>

  const changeQuery = (next: AgentQuery) => {
    setQuery({ ...next, page_size: query.page_size ?? 50 })
    setTokens([undefined])
  }
  const confirm = async () => {
    if (pending === undefined) return
    setBusy(true)
    try {
      if (pending.kind === 'evict') await api.evict(pending.spiffeId)
      else await api.ban(pending.spiffeId)
      setNotice(`${pending.kind === 'evict' ? 'Evicted' : 'Banned'} ${pending.spiffeId}`)
      setPending(undefined)
      setShown(undefined)
      await refresh()
    } catch (error) {
      fail(error)
    } finally {
      setBusy(false)
    }
  }
  const signOut = async () => {
    try {
      await api.signOut()
    } finally {
      window.location.assign(SIGN_IN)
    }
  }
  const show = async (agent: AgentView) => {
    try {
      setShown(await api.getAgent(agent.spiffe_id))
    } catch (error) {
      fail(error)
    }
  }

  return (
    <>
      <header class="top">
        <h1>k8s-attest agents</h1>
        <ServerStatus overview={overview} />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main>
        {problem !== undefined ? (
          <p class="problem" role="alert">
            {problem}
          </p>
        ) : null}
        <p class="notice" role="status" aria-live="polite">
          {notice ?? ''}
        </p>
        {overview !== undefined ? <AttestationChart attestations={overview.attestations} /> : null}
        <AgentFilters query={query} onChange={changeQuery} />
        <section aria-labelledby="agents-heading">
          <h2 id="agents-heading" class="visually-hidden">
            Agents
          </h2>
          {page === undefined ? (
            <p class="loading">Loading agents…</p>
          ) : (
            <AgentsTable
              agents={page.agents}
              now={now}
              onShow={show}
              onEvict={(agent) => setPending({ kind: 'evict', spiffeId: agent.spiffe_id })}
              onBan={(agent) => setPending({ kind: 'ban', spiffeId: agent.spiffe_id })}
            />
          )}
          <nav class="pager" aria-label="Pages">
            <button
              type="button"
              disabled={tokens.length <= 1}
              onClick={() => setTokens(tokens.slice(0, -1))}
            >
              Previous
            </button>
            <span aria-live="polite">Page {tokens.length}</span>
            <button
              type="button"
              disabled={page?.next_page_token === undefined}
              onClick={() => setTokens([...tokens, page?.next_page_token])}
            >
              Next
            </button>
            <div class="field">
              <label for="page-size">Per page</label>
              <select
                id="page-size"
                value={query.page_size ?? 50}
                onChange={(event) => {
                  setQuery({ ...query, page_size: Number(event.currentTarget.value) })
                  setTokens([undefined])
                }}
              >
                {PAGE_SIZES.map((size) => (
                  <option key={size} value={size}>
                    {size}
                  </option>
                ))}
              </select>
            </div>
          </nav>
        </section>
      </main>
      {shown !== undefined && pending === undefined ? (
        <AgentDetail
          agent={shown}
          now={now}
          onClose={() => setShown(undefined)}
          onEvict={() => setPending({ kind: 'evict', spiffeId: shown.spiffe_id })}
          onBan={() => setPending({ kind: 'ban', spiffeId: shown.spiffe_id })}
        />
      ) : null}
      {pending !== undefined ? (
        <ConfirmAction
          action={pending}
          busy={busy}
          onConfirm={confirm}
          onCancel={() => setPending(undefined)}
        />
      ) : null}
    </>
  )
}
