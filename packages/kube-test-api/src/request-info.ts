/**
 * What a request is about, parsed from its method and URL as kube-apiserver's
 * `RequestInfoFactory` does: the verb, the API group and version, the
 * resource and subresource, the namespace and the name. Authorization,
 * fault filters and request counters all key on it.
 */

/** A request for an API resource (`/api/...`, `/apis/...`). */
export interface ResourceRequestInfo {
  readonly resourceRequest: true
  readonly path: string
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`. */
  readonly verb: string
  /** `''` for the core group. */
  readonly apiGroup: string
  readonly apiVersion: string
  readonly resource: string
  readonly subresource: string
  readonly namespace: string
  readonly name: string
}

/** A request for any other path (`/version`, `/healthz`, `/openid/v1/jwks`). */
export interface NonResourceRequestInfo {
  readonly resourceRequest: false
  readonly path: string
  /** The lower-cased HTTP method (`get`, `post`, …). */
  readonly verb: string
}

/** One of the two request kinds. */
export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo

const VERB_BY_METHOD: Readonly<Record<string, string>> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  GET: 'get',
  HEAD: 'get',
  DELETE: 'delete',
}

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize'])

/** Parses `method` and `url` (path with query) into a {@link RequestInfo}. */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname
  const parts = path.split('/').filter((part) => part !== '')
  const nonResource: NonResourceRequestInfo = { resourceRequest: false, path, verb: method.toLowerCase() }
  let rest: string[]
  let apiGroup: string
  let apiVersion: string
  if (parts[0] === 'api' && parts.length >= 3) {
    apiGroup = ''
    apiVersion = parts[1] as string
    rest = parts.slice(2)
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    apiGroup = parts[1] as string
    apiVersion = parts[2] as string
    rest = parts.slice(3)
  } else {
    return nonResource
  }
  const baseVerb = VERB_BY_METHOD[method.toUpperCase()]
  if (baseVerb === undefined) return nonResource

  let namespace = ''
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] as string
    // `/namespaces/<ns>/<resource>/…` is a namespaced resource; `/namespaces/<ns>`
    // and `/namespaces/<ns>/status` are the namespace object itself.
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2] as string)) rest = rest.slice(2)
  }
  const [resource = '', name = '', subresource = ''] = rest
  let verb = baseVerb
  const watch = url.searchParams.get('watch')
  if (baseVerb === 'get' && name === '') verb = watch === 'true' || watch === '1' ? 'watch' : 'list'
  else if (baseVerb === 'get' && (watch === 'true' || watch === '1')) verb = 'watch'
  if (baseVerb === 'delete' && name === '') verb = 'deletecollection'
  return { resourceRequest: true, path, verb, apiGroup, apiVersion, resource, subresource, namespace, name }
}

/** `pods`, `serviceaccounts/token`, or a non-resource path: how counters and fault filters name a request. */
export function resourceLabel(info: RequestInfo): string {
  if (!info.resourceRequest) return info.path
  return info.subresource === '' ? info.resource : `${info.resource}/${info.subresource}`
}
