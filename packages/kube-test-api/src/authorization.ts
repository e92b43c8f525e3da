import { goQuote } from './go-format.ts'
import type { Identity, PolicyRule } from './identities.ts'
import { arrayAt, isJsonObject, type JsonObject, objectAt, stringAt } from './json.ts'
import type { RequestInfo } from './request-info.ts'
import { RBAC_GROUP } from './resources/rbac.ts'
import type { ObjectStore } from './store.ts'
import { MASTERS_GROUP, serviceAccountUsername, type UserInfo } from './user-info.ts'

/**
 * Authorization as kube-apiserver's `--authorization-mode=RBAC` answers it:
 * `system:masters` may do anything; otherwise a request is allowed by the
 * first ClusterRoleBinding (stored, including the bootstrap ones) whose
 * subject is the user and whose ClusterRole has a matching rule. Static
 * identities also carry their own rules. The reason texts are RBAC's.
 */

/** The outcome, as a SubjectAccessReview reports it. */
export interface AuthorizationDecision {
  readonly allowed: boolean
  /** Why it was allowed (`RBAC: allowed by ClusterRoleBinding …`); empty when denied. */
  readonly reason: string
}

const CLUSTER_ROLES = `clusterroles.${RBAC_GROUP}`
const CLUSTER_ROLE_BINDINGS = `clusterrolebindings.${RBAC_GROUP}`

function strings(rule: JsonObject, key: string): string[] {
  return (arrayAt(rule, key) ?? []).filter((entry): entry is string => typeof entry === 'string')
}

function toPolicyRule(rule: JsonObject): PolicyRule {
  return {
    verbs: strings(rule, 'verbs'),
    apiGroups: strings(rule, 'apiGroups'),
    resources: strings(rule, 'resources'),
    resourceNames: strings(rule, 'resourceNames'),
    nonResourceURLs: strings(rule, 'nonResourceURLs'),
  }
}

/** Whether `rule` covers the request (`rbac.RuleAllows`). */
export function ruleAllows(rule: PolicyRule, request: RequestInfo): boolean {
  if (!rule.verbs.includes('*') && !rule.verbs.includes(request.verb)) return false
  if (!request.resourceRequest) {
    return (rule.nonResourceURLs ?? []).some(
      (url) =>
        url === '*' ||
        url === request.path ||
        (url.endsWith('*') && request.path.startsWith(url.slice(0, -1))),
    )
  }
  const groups = rule.apiGroups ?? ['*']
  if (!groups.includes('*') && !groups.includes(request.apiGroup)) return false
  const combined =
    request.subresource === '' ? request.resource : `${request.resource}/${request.subresource}`
  const resourceMatches = (rule.resources ?? []).some(
    (resource) =>
      resource === '*' ||
      resource === combined ||
      (request.subresource !== '' && resource === `*/${request.subresource}`),
  )
  if (!resourceMatches) return false
  const names = rule.resourceNames ?? []
  return names.length === 0 || names.includes(request.name)
}

function subjectMatches(subject: JsonObject, user: UserInfo): boolean {
  const name = stringAt(subject, 'name') ?? ''
  switch (stringAt(subject, 'kind')) {
    case 'User':
      return user.username === name
    case 'Group':
      return user.groups.includes(name)
    case 'ServiceAccount':
      return user.username === serviceAccountUsername(stringAt(subject, 'namespace') ?? '', name)
    default:
      return false
  }
}

/** RBAC's description of a subject: `ServiceAccount "name/namespace"`, `User "x"`, `Group "x"`. */
function describeSubject(subject: JsonObject): string {
  const name = stringAt(subject, 'name') ?? ''
  const kind = stringAt(subject, 'kind') ?? ''
  if (kind === 'ServiceAccount')
    return `ServiceAccount ${goQuote(`${name}/${stringAt(subject, 'namespace') ?? ''}`)}`
  return `${kind} ${goQuote(name)}`
}

/** The cluster's authorizer. */
export class Authorizer {
  readonly #store: ObjectStore

  constructor(store: ObjectStore) {
    this.#store = store
  }

  /** Decides whether `user` (authenticated as static `identity`, if one) may make `request`. */
  authorize(user: UserInfo, request: RequestInfo, identity?: Identity): AuthorizationDecision {
    if (user.groups.includes(MASTERS_GROUP)) return { allowed: true, reason: '' }
    if (identity?.rules.some((rule) => ruleAllows(rule, request))) {
      return { allowed: true, reason: `allowed by the rules of test identity ${goQuote(identity.name)}` }
    }
    for (const binding of this.#store.list(CLUSTER_ROLE_BINDINGS)) {
      const subject = (arrayAt(binding, 'subjects') ?? [])
        .filter(isJsonObject)
        .find((candidate) => subjectMatches(candidate, user))
      if (subject === undefined) continue
      const roleName = stringAt(objectAt(binding, 'roleRef'), 'name') ?? ''
      const role = this.#store.get(CLUSTER_ROLES, '', roleName)
      const rules = (arrayAt(role, 'rules') ?? []).filter(isJsonObject).map(toPolicyRule)
      if (rules.some((rule) => ruleAllows(rule, request))) {
        const bindingName = stringAt(objectAt(binding, 'metadata'), 'name') ?? ''
        return {
          allowed: true,
          reason: `RBAC: allowed by ClusterRoleBinding ${goQuote(bindingName)} of ClusterRole ${goQuote(roleName)} to ${describeSubject(subject)}`,
        }
      }
    }
    return { allowed: false, reason: '' }
  }
}

/** The text of a 403 (`forbiddenMessage`): `User "u" cannot get resource "pods" in API group "" in the namespace "ns"`. */
export function forbiddenReason(user: UserInfo, request: RequestInfo): string {
  if (!request.resourceRequest)
    return `User ${goQuote(user.username)} cannot ${request.verb} path ${goQuote(request.path)}`
  const resource =
    request.subresource === '' ? request.resource : `${request.resource}/${request.subresource}`
  const scope =
    request.namespace === '' ? 'at the cluster scope' : `in the namespace ${goQuote(request.namespace)}`
  return `User ${goQuote(user.username)} cannot ${request.verb} resource ${goQuote(resource)} in API group ${goQuote(request.apiGroup)} ${scope}`
}
