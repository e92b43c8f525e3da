/**
 * Node selectors, built the way SPIRE's k8s_psat and k8s_sat server plugins
 * build them, so that registration entries written for SPIRE select the same
 * agents here. A selector is `{ type, value }` (the wire `Selector`); its
 * string form, used by CLI filters, is `type:value`, e.g.
 * `k8s_psat:agent_ns:spire`.
 *
 * k8s_psat (SPIRE `pkg/server/plugin/nodeattestor/k8spsat/psat.go`): `cluster`,
 * `agent_ns`, `agent_sa`, `agent_pod_name`, `agent_pod_uid`, `agent_node_ip`
 * (the pod's `status.hostIP`), `agent_node_name` (the pod's `spec.nodeName`),
 * `agent_node_uid`, then `agent_node_label:<key>:<value>` and
 * `agent_pod_label:<key>:<value>` for allow-listed label keys only.
 * k8s_sat (`k8ssat/sat.go`): `cluster`, `agent_ns`, `agent_sa`.
 *
 * Two deliberate differences from SPIRE: the output is sorted (SPIRE appends
 * labels in Go's random map order), so equal inputs give equal lists that can
 * be stored and compared as they are; and `agent_node_ip` is left out when the
 * pod has no host IP yet, instead of becoming the empty `agent_node_ip:`.
 */
import { AttestError } from './errors.ts'
import { quote } from './internal/quote.ts'
import type { Selector } from './wire.ts'

/** Input of {@link psatSelectors}: what the review and the pod and node lookups found. */
export interface PsatSelectorInput {
  /** The cluster's name in the server configuration. */
  readonly cluster: string
  /** The agent's namespace, as the TokenReview confirmed it. */
  readonly namespace: string
  /** The agent's service account name, as the TokenReview confirmed it. */
  readonly serviceAccountName: string
  /** The agent pod's name. */
  readonly podName: string
  /** The agent pod's UID. */
  readonly podUid: string
  /** The pod's `spec.nodeName`. */
  readonly nodeName: string
  /** The node's UID. */
  readonly nodeUid: string
  /** The pod's `status.hostIP`; omitted from the selectors when absent or empty. */
  readonly nodeIp?: string | undefined
  /** The node's labels. Default: none. */
  readonly nodeLabels?: Readonly<Record<string, string>> | undefined
  /** The pod's labels. Default: none. */
  readonly podLabels?: Readonly<Record<string, string>> | undefined
  /** Node label keys that become selectors (SPIRE `allowed_node_label_keys`). Default: none. */
  readonly allowedNodeLabelKeys?: Iterable<string> | undefined
  /** Pod label keys that become selectors (SPIRE `allowed_pod_label_keys`). Default: none. */
  readonly allowedPodLabelKeys?: Iterable<string> | undefined
}

/** Input of {@link satSelectors}. */
export interface SatSelectorInput {
  /** The cluster's name in the server configuration. */
  readonly cluster: string
  /** The agent's namespace. */
  readonly namespace: string
  /** The agent's service account name. */
  readonly serviceAccountName: string
}

/**
 * The selectors of a k8s_psat agent, sorted.
 *
 * @throws {TypeError} when a required field is empty: the caller must not
 *   build selectors from a pod that is not scheduled or a review it did not check.
 * @example
 * ```ts
 * psatSelectors({ cluster: 'demo', namespace: 'spire', serviceAccountName: 'spire-agent',
 *   podName: 'spire-agent-x7k2p', podUid: '761196fa-…', nodeName: 'node-a', nodeUid: '733588a8-…',
 *   nodeIp: '10.0.0.7', nodeLabels: { 'topology.kubernetes.io/zone': 'eu-1a' },
 *   allowedNodeLabelKeys: ['topology.kubernetes.io/zone'] })
 * // [{ type: "k8s_psat", value: "agent_node_ip:10.0.0.7" },
 * //  { type: "k8s_psat", value: "agent_node_label:topology.kubernetes.io/zone:eu-1a" }, …]
 * ```
 */
export function psatSelectors(input: PsatSelectorInput): Selector[] {
  const caller = 'psatSelectors'
  const values = baseValues(input, caller)
  values.push(
    selectorValue('agent_pod_name', required(input.podName, 'podName', caller)),
    selectorValue('agent_pod_uid', required(input.podUid, 'podUid', caller)),
    selectorValue('agent_node_name', required(input.nodeName, 'nodeName', caller)),
    selectorValue('agent_node_uid', required(input.nodeUid, 'nodeUid', caller)),
  )
  if (input.nodeIp) values.push(selectorValue('agent_node_ip', input.nodeIp))
  pushLabelValues(values, 'agent_node_label', input.nodeLabels, input.allowedNodeLabelKeys)
  pushLabelValues(values, 'agent_pod_label', input.podLabels, input.allowedPodLabelKeys)
  return selectorsOfType('k8s_psat', values)
}

/**
 * The selectors of a k8s_sat agent, sorted.
 *
 * @throws {TypeError} when a field is empty.
 * @example
 * ```ts
 * satSelectors({ cluster: 'demo', namespace: 'spire', serviceAccountName: 'spire-agent' })
 * // [{ type: "k8s_sat", value: "agent_ns:spire" }, { type: "k8s_sat", value: "agent_sa:spire-agent" },
 * //  { type: "k8s_sat", value: "cluster:demo" }]
 * ```
 */
export function satSelectors(input: SatSelectorInput): Selector[] {
  return selectorsOfType('k8s_sat', baseValues(input, 'satSelectors'))
}

/**
 * Orders selectors by type, then value, comparing UTF-16 code units — not
 * `localeCompare`, whose order changes with the process locale.
 */
export function compareSelectors(left: Selector, right: Selector): number {
  return compareStrings(left.type, right.type) || compareStrings(left.value, right.value)
}

/** `selectors` sorted by {@link compareSelectors}, duplicates removed; the input is not modified. */
export function sortSelectors(selectors: Iterable<Selector>): Selector[] {
  return sortUniqueInPlace(Array.from(selectors))
}

/**
 * Sorts `selectors` itself and drops its duplicates, in place: an attestation builds its
 * selectors once, and copying them to sort and again to filter showed in the memory it allocated.
 */
function sortUniqueInPlace(selectors: Selector[]): Selector[] {
  selectors.sort(compareSelectors)
  let kept = 0
  for (const selector of selectors) {
    const previous = selectors[kept - 1]
    if (previous === undefined || compareSelectors(previous, selector) !== 0) selectors[kept++] = selector
  }
  selectors.length = kept
  return selectors
}

/**
 * Parses the `type:value` form of a selector, splitting at the first `:` —
 * the value keeps its own colons (`k8s_psat:agent_ns:spire` is type
 * `k8s_psat`, value `agent_ns:spire`).
 *
 * @throws {AttestError} `ATT_ERR_BAD_REQUEST`, `details.check: "selector_format"`,
 *   when there is no `:` or either side is empty.
 * @example
 * ```ts
 * parseSelector('k8s_psat:agent_ns:spire') // { type: "k8s_psat", value: "agent_ns:spire" }
 * ```
 */
export function parseSelector(text: string): Selector {
  const colon = typeof text === 'string' ? text.indexOf(':') : -1
  if (colon <= 0 || colon === text.length - 1) {
    throw new AttestError(
      'ATT_ERR_BAD_REQUEST',
      `invalid selector ${typeof text === 'string' ? quote(text) : `(${typeof text})`}: expected "<type>:<value>" with both sides non-empty, e.g. "k8s_psat:agent_ns:spire"`,
      {
        check: 'selector_format',
        ...(typeof text === 'string' ? { value: text.slice(0, 256) } : {}),
        expected: '<type>:<value>',
      },
    )
  }
  return { type: text.slice(0, colon), value: text.slice(colon + 1) }
}

/**
 * The `type:value` form of a selector, the inverse of {@link parseSelector}.
 *
 * @example
 * ```ts
 * formatSelector({ type: 'k8s_psat', value: 'cluster:demo' }) // "k8s_psat:cluster:demo"
 * ```
 */
export function formatSelector(selector: Selector): string {
  return `${selector.type}:${selector.value}`
}

/** Both attestors' common selectors. */
function baseValues(input: SatSelectorInput, caller: string): string[] {
  return [
    selectorValue('cluster', required(input.cluster, 'cluster', caller)),
    selectorValue('agent_ns', required(input.namespace, 'namespace', caller)),
    selectorValue('agent_sa', required(input.serviceAccountName, 'serviceAccountName', caller)),
  ]
}

/** The selectors of `type` with these values, sorted and unique. */
function selectorsOfType(type: Selector['type'], values: readonly string[]): Selector[] {
  return sortUniqueInPlace(values.map((value) => ({ type, value })))
}

/** SPIRE's `MakeSelectorValue`: the kind and its value joined by `:`. */
function selectorValue(kind: string, value: string): string {
  return `${kind}:${value}`
}

/** Appends `<kind>:<key>:<value>` for every allowed key that `labels` has. */
function pushLabelValues(
  values: string[],
  kind: 'agent_node_label' | 'agent_pod_label',
  labels: Readonly<Record<string, string>> | undefined,
  allowedKeys: Iterable<string> | undefined,
): void {
  if (labels === undefined || allowedKeys === undefined) return
  // The allow-list is a few keys from the configuration; a node has dozens of labels.
  for (const key of allowedKeys) {
    const value = Object.hasOwn(labels, key) ? labels[key] : undefined
    if (value !== undefined) values.push(selectorValue(kind, `${key}:${value}`))
  }
}

function required(value: string, field: string, caller: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new TypeError(`${caller}: "${field}" must be a non-empty string (found ${quote(String(value))})`)
  }
  return value
}

function compareStrings(left: string, right: string): number {
  if (left < right) return -1
  return left > right ? 1 : 0
}
