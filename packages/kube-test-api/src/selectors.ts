import { type JsonObject, type JsonValue, objectAt, stringMapAt } from './json.ts'
import { badRequest } from './status.ts'

/**
 * Label and field selectors of list and watch requests (`?labelSelector=`,
 * `?fieldSelector=`), with kube-apiserver's grammar: `k=v`, `k==v`, `k!=v`,
 * `k in (a,b)`, `k notin (a,b)`, `k`, `!k` for labels; equality only for
 * fields, on the fields each resource supports.
 */

/** A parsed selector: does an object match? */
export type ObjectMatcher = (object: JsonObject) => boolean

type LabelRequirement =
  | { readonly op: 'exists' | 'notexists'; readonly key: string }
  | { readonly op: 'in' | 'notin'; readonly key: string; readonly values: readonly string[] }

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(selector: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const char of selector) {
    if (char === '(') depth++
    if (char === ')') depth--
    if (char === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += char
  }
  parts.push(current)
  return parts.map((part) => part.trim()).filter((part) => part !== '')
}

function parseLabelRequirement(text: string): LabelRequirement {
  const setMatch = /^([^\s!=()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(text)
  if (setMatch !== null) {
    const values = (setMatch[3] ?? '')
      .split(',')
      .map((value) => value.trim())
      .filter((value) => value !== '')
    return { op: setMatch[2] === 'in' ? 'in' : 'notin', key: setMatch[1] ?? '', values }
  }
  const equality = /^([^\s!=()]+)\s*(==|=|!=)\s*([^\s!=()]*)$/.exec(text)
  if (equality !== null) {
    return { op: equality[2] === '!=' ? 'notin' : 'in', key: equality[1] ?? '', values: [equality[3] ?? ''] }
  }
  const notExists = /^!\s*([^\s!=()]+)$/.exec(text)
  if (notExists !== null) return { op: 'notexists', key: notExists[1] ?? '' }
  if (/^[^\s!=()]+$/.test(text)) return { op: 'exists', key: text }
  throw badRequest(`unable to parse requirement: found '${text}', expected: identifier or operator`)
}

function requirementHolds(requirement: LabelRequirement, value: string | undefined): boolean {
  switch (requirement.op) {
    case 'exists':
      return value !== undefined
    case 'notexists':
      return value === undefined
    case 'in':
      return value !== undefined && requirement.values.includes(value)
    case 'notin':
      return value === undefined || !requirement.values.includes(value)
  }
}

/** A matcher for `?labelSelector=`, on `metadata.labels`. */
export function parseLabelSelector(selector: string): ObjectMatcher {
  const requirements = splitTopLevel(selector).map(parseLabelRequirement)
  return (object) => {
    const labels = stringMapAt(objectAt(object, 'metadata'), 'labels')
    return requirements.every((requirement) => requirementHolds(requirement, labels[requirement.key]))
  }
}

/** The field paths each resource can be selected by, beyond `metadata.name` and `metadata.namespace`. */
const FIELD_SELECTORS: Readonly<Record<string, readonly string[]>> = {
  pods: [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
  nodes: ['spec.unschedulable'],
  secrets: ['type'],
  namespaces: ['status.phase'],
}

/**
 * The selectable fields that are Go booleans: their field set holds `strconv.FormatBool` of the
 * value, so an unset one reads "false" (`NodeToSelectableFields`, the pod's `hostNetwork`).
 */
const BOOLEAN_FIELDS: ReadonlySet<string> = new Set(['spec.unschedulable', 'spec.hostNetwork'])

function fieldValue(object: JsonObject, path: string): string {
  let current: JsonValue | undefined = object
  for (const segment of path.split('.')) {
    current =
      current !== null && typeof current === 'object' && !Array.isArray(current)
        ? current[segment]
        : undefined
  }
  if (current === undefined || current === null) return BOOLEAN_FIELDS.has(path) ? 'false' : ''
  return typeof current === 'string' ? current : JSON.stringify(current)
}

/** A matcher for `?fieldSelector=` on `resource`; unknown fields are a 400 as in kube-apiserver. */
export function parseFieldSelector(selector: string, resource: string): ObjectMatcher {
  const supported = new Set(['metadata.name', 'metadata.namespace', ...(FIELD_SELECTORS[resource] ?? [])])
  const requirements = splitTopLevel(selector).map((text) => {
    const match = /^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/.exec(text)
    if (match === null) throw badRequest(`invalid selector: '${selector}'; can't understand '${text}'`)
    const field = match[1] ?? ''
    if (!supported.has(field)) throw badRequest(`field label not supported: ${field}`)
    return { field, negated: match[2] === '!=', value: (match[3] ?? '').trim() }
  })
  return (object) =>
    requirements.every(({ field, negated, value }) => (fieldValue(object, field) === value) !== negated)
}
