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
 * first rule that covers it, visited as RBAC's `VisitRulesFor` visits them:
 * the ClusterRoleBindings (stored, including the bootstrap ones) whose
 * subject is the user, then, for a request in a namespace, that namespace's
 * RoleBindings, whose Role (or ClusterRole) rules count in that namespace
 * only. A request at the cluster scope never reaches a RoleBinding. Static
 * identities also carry their own rules. The reason texts are RBAC's,
 * including the `RBAC: role.rbac.authorization.k8s.io "x" not found` a
 * denial carries when a matching binding names a missing role.
 */

/** The outcome, as a SubjectAccessReview reports it. */
export interface AuthorizationDecision {
  readonly allowed: boolean
  /**
   * Why it was allowed (`RBAC: allowed by ClusterRoleBinding …`); for a
   * denial, the roles that matching bindings name and that do not exist,
   * else empty.
   */
  readonly reason: string
}

const CLUSTER_ROLES = `clusterroles.${RBAC_GROUP}`
const CLUSTER_ROLE_BINDINGS = `clusterrolebindings.${RBAC_GROUP}`
const ROLES = `roles.${RBAC_GROUP}`
const ROLE_BINDINGS = `rolebindings.${RBAC_GROUP}`

/** The rules of one binding that applies to the user, and how RBAC names the grant. */
interface RuleSource {
  readonly rules: readonly PolicyRule[]
  /** `ClusterRoleBinding "b" of ClusterRole "r" to User "u"`. */
  readonly description: string
}

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

/**
 * A ServiceAccount subject's namespace, which in a RoleBinding defaults to
 * the binding's own (`bindingNamespace`, `''` for ClusterRoleBindings).
 */
function subjectNamespace(subject: JsonObject, bindingNamespace: string): string {
  return stringAt(subject, 'namespace') || bindingNamespace
}

/** `appliesToUser`. */
function subjectMatches(subject: JsonObject, user: UserInfo, bindingNamespace: string): boolean {
  const name = stringAt(subject, 'name') ?? ''
  switch (stringAt(subject, 'kind')) {
    case 'User':
      return user.username === name
    case 'Group':
      return user.groups.includes(name)
    case 'ServiceAccount': {
      const namespace = subjectNamespace(subject, bindingNamespace)
      return namespace !== '' && user.username === serviceAccountUsername(namespace, name)
    }
    default:
      return false
  }
}

/** RBAC's description of a subject: `ServiceAccount "name/namespace"`, `User "x"`, `Group "x"`. */
function describeSubject(subject: JsonObject, bindingNamespace: string): string {
  const name = stringAt(subject, 'name') ?? ''
  const kind = stringAt(subject, 'kind') ?? ''
  if (kind === 'ServiceAccount')
    return `ServiceAccount ${goQuote(`${name}/${subjectNamespace(subject, bindingNamespace)}`)}`
  return `${kind} ${goQuote(name)}`
}

/** `utilerrors.NewAggregate(errors).Error()`: one message as is, several deduplicated in brackets. */
function aggregate(messages: readonly string[]): string {
  const unique = [...new Set(messages)]
  return unique.length === 1 ? (unique[0] as string) : `[${unique.join(', ')}]`
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
    const missingRoles: string[] = []
    const namespace = request.resourceRequest ? request.namespace : ''
    for (const source of this.#ruleSources(user, namespace, missingRoles)) {
      if (source.rules.some((rule) => ruleAllows(rule, request))) {
        return { allowed: true, reason: `RBAC: allowed by ${source.description}` }
      }
    }
    return { allowed: false, reason: missingRoles.length === 0 ? '' : `RBAC: ${aggregate(missingRoles)}` }
  }

  /**
   * `VisitRulesFor`: the bindings that apply to `user`, ClusterRoleBindings
   * first, then the RoleBindings of `namespace` when there is one. Lazily,
   * so that a grant stops the walk as it stops RBAC's; a binding whose role
   * is missing adds RBAC's not-found text to `missingRoles`.
   */
  *#ruleSources(user: UserInfo, namespace: string, missingRoles: string[]): Generator<RuleSource> {
    for (const binding of this.#store.list(CLUSTER_ROLE_BINDINGS)) {
      const source = this.#sourceOf(binding, 'ClusterRoleBinding', '', user, missingRoles)
      if (source !== undefined) yield source
    }
    if (namespace === '') return
    for (const binding of this.#store.list(ROLE_BINDINGS, namespace)) {
      const source = this.#sourceOf(binding, 'RoleBinding', namespace, user, missingRoles)
      if (source !== undefined) yield source
    }
  }

  #sourceOf(
    binding: JsonObject,
    bindingKind: 'ClusterRoleBinding' | 'RoleBinding',
    bindingNamespace: string,
    user: UserInfo,
    missingRoles: string[],
  ): RuleSource | undefined {
    const subject = (arrayAt(binding, 'subjects') ?? [])
      .filter(isJsonObject)
      .find((candidate) => subjectMatches(candidate, user, bindingNamespace))
    if (subject === undefined) return undefined
    const roleRef = objectAt(binding, 'roleRef')
    const roleKind = stringAt(roleRef, 'kind') ?? ''
    const roleName = stringAt(roleRef, 'name') ?? ''
    const role = this.#referencedRole(roleKind, roleName, bindingNamespace)
    if (role === undefined) {
      // The lister's `errors.NewNotFound(rbac.Resource("role"), name)`: singular resource names.
      missingRoles.push(`${roleKind.toLowerCase()}.${RBAC_GROUP} ${goQuote(roleName)} not found`)
      return undefined
    }
    const bindingName = stringAt(objectAt(binding, 'metadata'), 'name') ?? ''
    // A RoleBinding is named `"name/namespace"`, as RBAC's `roleBindingDescriber` writes it.
    const described = bindingKind === 'RoleBinding' ? `${bindingName}/${bindingNamespace}` : bindingName
    return {
      rules: (arrayAt(role, 'rules') ?? []).filter(isJsonObject).map(toPolicyRule),
      description: `${bindingKind} ${goQuote(described)} of ${roleKind} ${goQuote(roleName)} to ${describeSubject(subject, bindingNamespace)}`,
    }
  }

  /** `GetRoleReferenceRules`: a Role is looked up in the binding's namespace, a ClusterRole cluster-wide. */
  #referencedRole(kind: string, name: string, bindingNamespace: string): JsonObject | undefined {
    if (kind === 'Role') return this.#store.get(ROLES, bindingNamespace, name)
    if (kind === 'ClusterRole') return this.#store.get(CLUSTER_ROLES, '', name)
    return undefined
  }
}

/**
 * The text of a 403 (`forbiddenMessage`): `User "u" cannot get resource
 * "pods" in API group "" in the namespace "ns"`, followed by `: <reason>`
 * when the denial has one, as `responsewriters.Forbidden` writes it.
 */
export function forbiddenReason(user: UserInfo, request: RequestInfo, reason = ''): string {
  const suffix = reason === '' ? '' : `: ${reason}`
  if (!request.resourceRequest)
    return `User ${goQuote(user.username)} cannot ${request.verb} path ${goQuote(request.path)}${suffix}`
  const resource =
    request.subresource === '' ? request.resource : `${request.resource}/${request.subresource}`
  const scope =
    request.namespace === '' ? 'at the cluster scope' : `in the namespace ${goQuote(request.namespace)}`
  return `User ${goQuote(user.username)} cannot ${request.verb} resource ${goQuote(resource)} in API group ${goQuote(request.apiGroup)} ${scope}${suffix}`
}
