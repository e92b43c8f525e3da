import { useState } from 'preact/hooks'
import type { AgentQuery } from './api.ts'

/** Props of {@link AgentFilters}. */
export interface AgentFiltersProps {
  readonly query: AgentQuery
  readonly onChange: (query: AgentQuery) => void
}

const SORTS = [
  ['spiffe_id', 'SPIFFE ID'],
  ['last_attested_at', 'Last attestation'],
  ['svid_expires_at', 'SVID expiry'],
] as const

/**
 * Search, filters and order. Choices apply at once; typed text applies on Enter or "Apply", so a
 * half-typed cluster name does not query the server at every keystroke.
 */
export function AgentFilters({ query, onChange }: AgentFiltersProps) {
  const [text, setText] = useState({
    search: query.search ?? '',
    cluster: query.cluster ?? '',
    selector: query.selector ?? '',
  })
  // A choice of "any" is `undefined`: the key is dropped from the query.
  const apply = (next: { readonly [K in keyof AgentQuery]?: AgentQuery[K] | undefined }) => {
    const merged: Record<string, unknown> = { ...query, ...text, ...next }
    for (const key of Object.keys(merged))
      if (merged[key] === '' || merged[key] === undefined) delete merged[key]
    onChange(merged as AgentQuery)
  }
  return (
    <search aria-label="Search and filter agents">
      <form
        class="filters"
        onSubmit={(event) => {
          event.preventDefault()
          apply({})
        }}
      >
        <div class="field">
          <label for="filter-search">Search</label>
          <input
            id="filter-search"
            type="search"
            name="search"
            placeholder="node, pod, SPIFFE ID…"
            value={text.search}
            maxLength={256}
            onInput={(event) => setText({ ...text, search: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="filter-cluster">Cluster</label>
          <input
            id="filter-cluster"
            name="cluster"
            value={text.cluster}
            maxLength={253}
            onInput={(event) => setText({ ...text, cluster: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="filter-selector">Selector</label>
          <input
            id="filter-selector"
            name="selector"
            placeholder="k8s_psat:agent_ns:spire"
            value={text.selector}
            maxLength={1024}
            onInput={(event) => setText({ ...text, selector: event.currentTarget.value })}
          />
        </div>
        <div class="field">
          <label for="filter-attestor">Attestor</label>
          <select
            id="filter-attestor"
            name="attestor"
            value={query.attestor ?? ''}
            onChange={(event) =>
              apply({ attestor: (event.currentTarget.value || undefined) as AgentQuery['attestor'] })
            }
          >
            <option value="">any</option>
            <option value="k8s_psat">k8s_psat</option>
            <option value="k8s_sat">k8s_sat</option>
          </select>
        </div>
        <div class="field">
          <label for="filter-state">State</label>
          <select
            id="filter-state"
            name="state"
            value={query.state ?? ''}
            onChange={(event) =>
              apply({ state: (event.currentTarget.value || undefined) as AgentQuery['state'] })
            }
          >
            <option value="">any</option>
            <option value="attested">attested</option>
            <option value="expired">expired</option>
            <option value="banned">banned</option>
          </select>
        </div>
        <div class="field">
          <label for="filter-sort-by">Sort by</label>
          <select
            id="filter-sort-by"
            name="sort"
            value={query.sort ?? 'spiffe_id'}
            onChange={(event) => apply({ sort: event.currentTarget.value as AgentQuery['sort'] })}
          >
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-order">Order</label>
          <select
            id="filter-order"
            name="order"
            value={query.order ?? 'asc'}
            onChange={(event) => apply({ order: event.currentTarget.value as AgentQuery['order'] })}
          >
            <option value="asc">ascending</option>
            <option value="desc">descending</option>
          </select>
        </div>
        <div class="filter-buttons">
          <button type="submit">Apply</button>
          <button
            type="button"
            onClick={() => {
              setText({ search: '', cluster: '', selector: '' })
              onChange({})
            }}
          >
            Clear
          </button>
        </div>
      </form>
    </search>
  )
}
