import { load as loadYaml } from 'js-yaml'

/**
 * What a kubeconfig's credentials mean to @kubernetes/client-node 2.0.1, checked on the file's
 * text alone. It parses the YAML with js-yaml, as client-node's own `loadFromString` does, and
 * does not load client-node itself: the configuration loader calls it for every
 * `kube_config_file`, and the operator's commands (`agent list -config …`) load the
 * configuration without ever talking to Kubernetes.
 *
 * client-node reads a user entry's `token`, `token-file` (its own spelling, read once),
 * client certificate and key, `username`/`password`, `as`, `exec` and the `azure`, `gcp` and
 * `oidc` auth providers (or any provider whose `config` has a `tokenFile`). Whatever else a
 * user entry says it drops without a word, and the server then calls the API with less than
 * the operator meant — typically as `system:anonymous`, which the permission self-check can
 * only report as missing RBAC. So, for the user of the current context:
 *
 * - kubectl's `tokenFile` is honoured: read, and re-read every minute as client-go does
 *   (`TokenFileAuthenticator`, in `kubeconfig-file.ts`);
 * - every credential client-node would drop is refused, naming the field: `as-uid`,
 *   `as-groups`, `as-user-extra` (the calls would not impersonate what was configured), an
 *   `auth-provider` client-node has no plug-in for, and `tokenFile` beside `exec` or an
 *   `auth-provider` (which client-node would use instead);
 * - ambiguous settings are refused too: `tokenFile` with `token` (kubectl's documentation says
 *   the token wins, its transport prefers the file) and with `token-file`.
 *
 * Not refused: `username`/`password` (client-node sends them; kube-apiserver has not accepted
 * basic authentication since v1.19 and answers 401, which the self-check logs with its cause)
 * and `extensions` (not a credential).
 */

/** kubectl's user fields that client-node 2.0.1 never reads, and what dropping them means. */
const DROPPED_USER_FIELDS: Readonly<Record<string, string>> = {
  'as-uid': 'the calls would not impersonate that UID',
  'as-groups': 'the calls would not impersonate those groups',
  'as-user-extra': 'the calls would not carry that impersonated extra information',
}

/** The auth providers client-node 2.0.1 has a plug-in for. */
const CLIENT_NODE_AUTH_PROVIDERS: readonly string[] = ['azure', 'gcp', 'oidc']

/** The current context's user entry, as written in the file (`undefined` when there is none). */
export interface RawUser {
  readonly name: string
  readonly fields: Readonly<Record<string, unknown>>
}

/**
 * What is wrong with the credentials of the current context's user in a kubeconfig's text,
 * one sentence per problem naming the field; empty when client-node will use them as written.
 * A file that is not a kubeconfig at all yields no problems here: client-node's own loading
 * reports that.
 */
export function kubeconfigCredentialProblems(text: string): string[] {
  const user = currentUser(text)
  if (user === undefined) return []
  const { name, fields } = user
  const problems: string[] = []
  const where = `kubeconfig user ${JSON.stringify(name)}`
  for (const [field, consequence] of Object.entries(DROPPED_USER_FIELDS)) {
    if (fields[field] !== undefined) {
      problems.push(
        `${where} sets "${field}", which @kubernetes/client-node ignores (${consequence}); remove it, or impersonate with "as" only`,
      )
    }
  }
  const provider = asRecord(fields['auth-provider'])
  if (provider !== undefined) {
    const providerName = typeof provider.name === 'string' ? provider.name : ''
    const hasTokenFile = asRecord(provider.config)?.tokenFile !== undefined
    if (!CLIENT_NODE_AUTH_PROVIDERS.includes(providerName) && !hasTokenFile) {
      problems.push(
        `${where} sets "auth-provider" ${JSON.stringify(providerName)}, which @kubernetes/client-node has no plug-in for (it has ${CLIENT_NODE_AUTH_PROVIDERS.join(', ')}); use "token", "tokenFile", a client certificate or "exec"`,
      )
    }
  }
  if (fields.tokenFile !== undefined) {
    if (typeof fields.tokenFile !== 'string' || fields.tokenFile === '') {
      problems.push(`${where} sets "tokenFile" to something that is not a path`)
    }
    for (const other of ['exec', 'auth-provider'] as const) {
      if (fields[other] !== undefined) {
        problems.push(
          `${where} sets both "tokenFile" and "${other}"; @kubernetes/client-node would use "${other}" and ignore "tokenFile": keep one`,
        )
      }
    }
    if (fields.token !== undefined) {
      problems.push(
        `${where} sets both "token" and "tokenFile"; kubectl's documentation and its transport disagree on which wins: keep one`,
      )
    }
    if (fields['token-file'] !== undefined) {
      problems.push(
        `${where} sets both "tokenFile" (kubectl's field) and "token-file" (@kubernetes/client-node's): keep "tokenFile"`,
      )
    }
  }
  return problems
}

/** The current context's user entry of a kubeconfig's text; `undefined` when there is none. */
export function currentUser(text: string): RawUser | undefined {
  let document: unknown
  try {
    document = loadYaml(text)
  } catch {
    return undefined // not YAML: client-node's loadFromFile reports it
  }
  const root = asRecord(document)
  const contextName = root?.['current-context']
  const context = namedEntries(root?.contexts).find((entry) => entry.name === contextName)
  const userName = asRecord(context?.context)?.user
  if (typeof userName !== 'string') return undefined
  const entry = namedEntries(root?.users).find((candidate) => candidate.name === userName)
  return { name: userName, fields: asRecord(entry?.user) ?? {} }
}

function namedEntries(list: unknown): Readonly<Record<string, unknown>>[] {
  if (!Array.isArray(list)) return []
  return list.flatMap((item) => {
    const entry = asRecord(item)
    return entry === undefined ? [] : [entry]
  })
}

function asRecord(value: unknown): Readonly<Record<string, unknown>> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}
