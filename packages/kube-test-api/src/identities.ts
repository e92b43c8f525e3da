import { randomBytes } from 'node:crypto'
import { AUTHENTICATED_GROUP, MASTERS_GROUP } from './user-info.ts'

/**
 * Static bearer-token identities (kube-apiserver's `--token-auth-file`):
 * the cluster admin, and the callers a test adds, each with its own
 * RBAC-like rules. Service accounts authenticate with their tokens instead
 * and get their permissions from ClusterRoleBindings.
 */

/**
 * What an identity may do, in `rbacv1.PolicyRule` terms. `apiGroups` may be
 * left out to mean any group, so `{ verbs: ['get'], resources: ['pods'] }`
 * reads as it sounds.
 */
export interface PolicyRule {
  readonly verbs: readonly string[]
  /** Default: any group (`['*']`). */
  readonly apiGroups?: readonly string[]
  /** Plural resources, `resource/subresource`, or `*`. */
  readonly resources?: readonly string[]
  /** Restricts the rule to these object names. */
  readonly resourceNames?: readonly string[]
  /** Paths such as `/version` or `/healthz/*` (a trailing `*` is a prefix match). */
  readonly nonResourceURLs?: readonly string[]
}

/** How to create an identity. */
export interface IdentitySpec {
  /** The username requests authenticate as. */
  readonly name: string
  /** Extra groups; `system:authenticated` is always added. `system:masters` grants everything. */
  readonly groups?: readonly string[]
  readonly rules?: readonly PolicyRule[]
  /** The bearer token; default: 32 random bytes, base64url. */
  readonly token?: string
}

/** A caller of the API with a bearer token. */
export interface Identity {
  readonly name: string
  readonly token: string
  /** Its groups, including `system:authenticated`. */
  readonly groups: readonly string[]
  readonly rules: readonly PolicyRule[]
}

/** The username of the cluster admin identity, as kubeadm names it. */
export const ADMIN_NAME = 'kubernetes-admin'

/** The identities of one cluster. */
export class IdentityRegistry {
  readonly #byToken = new Map<string, Identity>()

  /** Adds an identity; a misuse (empty name, reused name or token) is a `TypeError`. */
  add(spec: IdentitySpec): Identity {
    if (typeof spec.name !== 'string' || spec.name.trim() === '') {
      throw new TypeError('an identity needs a non-empty "name"')
    }
    if (spec.name.startsWith('system:serviceaccount:')) {
      throw new TypeError(
        `identity "${spec.name}" would impersonate a service account; use a service account token instead`,
      )
    }
    if ([...this.#byToken.values()].some((identity) => identity.name === spec.name)) {
      throw new TypeError(`an identity named "${spec.name}" already exists`)
    }
    const token = spec.token ?? randomBytes(32).toString('base64url')
    if (token === '' || /\s/.test(token))
      throw new TypeError('an identity token must be non-empty and without whitespace')
    if (this.#byToken.has(token)) throw new TypeError('that token already belongs to another identity')
    for (const rule of spec.rules ?? []) {
      if (!Array.isArray(rule.verbs) || rule.verbs.length === 0) {
        throw new TypeError(`every rule of identity "${spec.name}" needs at least one verb`)
      }
    }
    const groups = [...new Set([...(spec.groups ?? []), AUTHENTICATED_GROUP])]
    const identity: Identity = { name: spec.name, token, groups, rules: [...(spec.rules ?? [])] }
    this.#byToken.set(token, identity)
    return identity
  }

  /** The identity holding `token`, if any. */
  byToken(token: string): Identity | undefined {
    return this.#byToken.get(token)
  }
}

/** The spec of the admin identity every cluster starts with. */
export function adminIdentitySpec(token?: string): IdentitySpec {
  return { name: ADMIN_NAME, groups: [MASTERS_GROUP], ...(token === undefined ? {} : { token }) }
}
