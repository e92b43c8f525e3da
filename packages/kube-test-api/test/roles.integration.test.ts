import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JsonObject } from '../src/json.ts'
import { type KubeTestApi, startKubeTestApi } from '../src/test-api.ts'
import { send } from './support/https-client.ts'

/**
 * Roles and RoleBindings over HTTPS: created by the admin through the REST
 * API and the programmatic one, then obeyed by the authorizer for a service
 * account's requests and SelfSubjectAccessReviews.
 */

const RBAC = 'rbac.authorization.k8s.io'
const RBAC_PATH = `/apis/${RBAC}/v1`
const SERVICE_ACCOUNT = 'system:serviceaccount:spire:spire-server'
let api: KubeTestApi
let accountToken: string

beforeAll(async () => {
  api = await startKubeTestApi()
  api.createNamespace('spire')
  api.createNamespace('other')
  api.createServiceAccount('spire', 'spire-server')
  accountToken = api.requestToken({ namespace: 'spire', serviceAccount: 'spire-server' }).token
  for (const namespace of ['spire', 'other']) {
    api.createObject('configmaps', { metadata: { name: 'settings' }, data: { k: 'v' } }, namespace)
  }
})

afterAll(async () => {
  await api.stop()
})

async function call(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = { Authorization: `Bearer ${options.token ?? api.admin.token}` }
  if (options.body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await send(api.url, api.caCertificatePem, {
    method,
    path,
    headers,
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  })
  return { status: response.status, body: JSON.parse(response.raw) as JsonObject }
}

function forbiddenStatus(name: string, message: string): JsonObject {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Forbidden',
    details: name === '' ? { kind: 'configmaps' } : { name, kind: 'configmaps' },
    code: 403,
  }
}

describe('roles and rolebindings over HTTP', () => {
  it('are created through the REST API (201) and grant in their own namespace only', async () => {
    const role = await call('POST', `${RBAC_PATH}/namespaces/spire/roles`, {
      body: {
        metadata: { name: 'cm-reader' },
        rules: [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['configmaps'] }],
      },
    })
    expect(role).toMatchObject({ status: 201, body: { kind: 'Role', apiVersion: `${RBAC}/v1` } })
    const binding = await call('POST', `${RBAC_PATH}/namespaces/spire/rolebindings`, {
      body: {
        metadata: { name: 'read-cm' },
        roleRef: { kind: 'Role', name: 'cm-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
    })
    expect(binding).toMatchObject({
      status: 201,
      body: { kind: 'RoleBinding', roleRef: { apiGroup: RBAC, kind: 'Role', name: 'cm-reader' } },
    })

    const allowed = await call('GET', '/api/v1/namespaces/spire/configmaps/settings', { token: accountToken })
    expect(allowed).toMatchObject({ status: 200, body: { data: { k: 'v' } } })
    expect(
      await call('GET', '/api/v1/namespaces/other/configmaps/settings', { token: accountToken }),
    ).toEqual({
      status: 403,
      body: forbiddenStatus(
        'settings',
        `configmaps "settings" is forbidden: User "${SERVICE_ACCOUNT}" cannot get resource "configmaps" in API group "" in the namespace "other"`,
      ),
    })
    expect(await call('GET', '/api/v1/configmaps', { token: accountToken })).toEqual({
      status: 403,
      body: forbiddenStatus(
        '',
        `configmaps is forbidden: User "${SERVICE_ACCOUNT}" cannot list resource "configmaps" in API group "" at the cluster scope`,
      ),
    })
  })

  it('are created through the programmatic API, a RoleBinding naming a ClusterRole', async () => {
    api.createObject(`clusterroles.${RBAC}`, {
      metadata: { name: 'cm-writer' },
      rules: [{ verbs: ['update', 'patch'], apiGroups: [''], resources: ['configmaps'] }],
    })
    const binding = api.createObject(
      `rolebindings.${RBAC}`,
      {
        metadata: { name: 'write-cm' },
        roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cm-writer' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server' }],
      },
      'other',
    )
    expect(binding).toMatchObject({ name: 'write-cm', namespace: 'other' })
    expect(api.getObject(`rolebindings.${RBAC}`, 'write-cm', 'other').uid).toBe(binding.uid)
    // The subject has no namespace: in "other" it is other's spire-server, not the caller.
    const patch = await send(api.url, api.caCertificatePem, {
      method: 'PATCH',
      path: '/api/v1/namespaces/other/configmaps/settings',
      headers: { Authorization: `Bearer ${accountToken}`, 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ data: { k: 'w' } }),
    })
    expect(patch.status).toBe(403)
  })

  it('answer SelfSubjectAccessReviews through RoleBindings', async () => {
    const review = (namespace: string) =>
      call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
        token: accountToken,
        body: { spec: { resourceAttributes: { namespace, verb: 'list', resource: 'configmaps' } } },
      })
    const allowed = await review('spire')
    expect(allowed.status).toBe(201)
    expect(allowed.body.status).toEqual({
      allowed: true,
      reason:
        'RBAC: allowed by RoleBinding "read-cm/spire" of Role "cm-reader" to ServiceAccount "spire-server/spire"',
    })
    expect((await review('other')).body.status).toEqual({ allowed: false })
  })

  it('name the missing role in a 403 when a binding of the caller points nowhere', async () => {
    api.createObject(
      `rolebindings.${RBAC}`,
      {
        metadata: { name: 'dangling' },
        roleRef: { apiGroup: RBAC, kind: 'Role', name: 'nobody-made-me' },
        subjects: [{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }],
      },
      'other',
    )
    expect(
      await call('GET', '/api/v1/namespaces/other/configmaps/settings', { token: accountToken }),
    ).toEqual({
      status: 403,
      body: forbiddenStatus(
        'settings',
        `configmaps "settings" is forbidden: User "${SERVICE_ACCOUNT}" cannot get resource "configmaps" in API group "" in the namespace "other": RBAC: role.${RBAC} "nobody-made-me" not found`,
      ),
    })
  })

  it('refuse a roleRef change with 422 and delete with a Status naming the group', async () => {
    const current = (await call('GET', `${RBAC_PATH}/namespaces/spire/rolebindings/read-cm`)).body
    const changed = await call('PUT', `${RBAC_PATH}/namespaces/spire/rolebindings/read-cm`, {
      body: { ...current, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'cm-writer' } },
    })
    expect(changed).toMatchObject({
      status: 422,
      body: {
        message: `RoleBinding.${RBAC} "read-cm" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"${RBAC}", Kind:"ClusterRole", Name:"cm-writer"}: cannot change roleRef`,
      },
    })
    expect(await call('DELETE', `${RBAC_PATH}/namespaces/spire/rolebindings/read-cm`)).toEqual({
      status: 200,
      body: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: {
          name: 'read-cm',
          group: RBAC,
          kind: 'rolebindings',
          uid: (current.metadata as JsonObject).uid,
        },
      },
    })
    const after = await call('GET', '/api/v1/namespaces/spire/configmaps/settings', { token: accountToken })
    expect(after.status).toBe(403)
  })
})
