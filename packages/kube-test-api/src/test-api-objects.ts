import type { Clock } from './clock.ts'
import { type JsonObject, objectAt, stringAt } from './json.ts'
import { reportPodStatus } from './kubelet-status.ts'
import { metadataOf, type Registry, type WriteRequest } from './registry.ts'
import { findResource } from './resources/catalog.ts'
import type { ResourceDefinition } from './resources/definition.ts'
import { namespaces } from './resources/namespaces.ts'
import { nodes } from './resources/nodes.ts'
import { pods } from './resources/pods.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import type { KubeTestApi, StoredObject } from './test-api.ts'

/**
 * The test API's object methods: namespaces, service accounts, nodes and
 * pods from a few fields, any served object from its JSON, pod statuses as a
 * kubelet reports them. They write through the registry, as requests do.
 */

/** The object methods of {@link KubeTestApi}. */
export type ObjectMethods = Pick<
  KubeTestApi,
  | 'createNamespace'
  | 'createServiceAccount'
  | 'createNode'
  | 'createPod'
  | 'setPodStatus'
  | 'createObject'
  | 'getObject'
  | 'deleteObject'
>

/** How the test API's own writes are recorded (their field manager). */
export const TEST_API_WRITE: WriteRequest = { manager: 'kube-test-api' }

const DEFAULT_CONTAINER_IMAGE = 'registry.k8s.io/pause:3.10'

function stored(object: JsonObject): StoredObject {
  const metadata = metadataOf(object)
  return {
    name: stringAt(metadata, 'name') ?? '',
    namespace: stringAt(metadata, 'namespace') ?? '',
    uid: stringAt(metadata, 'uid') ?? '',
    resourceVersion: stringAt(metadata, 'resourceVersion') ?? '',
    object,
  }
}

function resourceDefinition(resource: string): ResourceDefinition {
  const [plural, group = ''] = resource.includes('.')
    ? [resource.slice(0, resource.indexOf('.')), resource.slice(resource.indexOf('.') + 1)]
    : [resource]
  const definition = findResource(group, 'v1', plural)
  if (definition === undefined) throw new TypeError(`"${resource}" is not a resource the test API stores`)
  return definition
}

/** The object methods over `registry`; pod statuses are reported at `clock`'s time. */
export function objectMethods(registry: Registry, clock: Clock): ObjectMethods {
  const setPodStatus: ObjectMethods['setPodStatus'] = (namespace, name, status) =>
    stored(reportPodStatus(registry, namespace, name, status, clock.now()))
  return {
    createNamespace: (name, options = {}) =>
      stored(
        registry.create(
          namespaces,
          '',
          { metadata: { name, labels: { ...options.labels } } },
          TEST_API_WRITE,
        ),
      ),
    createServiceAccount: (namespace, name, options = {}) => {
      const body: JsonObject = { metadata: { name, namespace } }
      if (options.automountServiceAccountToken !== undefined) {
        body.automountServiceAccountToken = options.automountServiceAccountToken
      }
      return stored(registry.create(serviceAccounts, namespace, body, TEST_API_WRITE))
    },
    createNode: (name, options = {}) =>
      stored(
        registry.create(
          nodes,
          '',
          {
            metadata: { name, labels: { ...options.labels } },
            status: {
              addresses: (options.addresses ?? []).map(({ type, address }) => ({ type, address })),
            },
          },
          TEST_API_WRITE,
        ),
      ),
    createPod: (input) => {
      const spec: JsonObject = {
        serviceAccountName: input.serviceAccountName,
        containers:
          input.containers === undefined
            ? [{ name: 'main', image: DEFAULT_CONTAINER_IMAGE }]
            : [...input.containers],
      }
      if (input.nodeName !== undefined) spec.nodeName = input.nodeName
      const metadata: JsonObject = {
        name: input.name,
        namespace: input.namespace,
        labels: { ...input.labels },
      }
      if (input.annotations !== undefined) metadata.annotations = { ...input.annotations }
      const created = stored(registry.create(pods, input.namespace, { metadata, spec }, TEST_API_WRITE))
      return input.status === undefined ? created : setPodStatus(input.namespace, input.name, input.status)
    },
    setPodStatus,
    createObject: (resource, body, namespace = '') => {
      const definition = resourceDefinition(resource)
      const bodyNamespace = stringAt(objectAt(body, 'metadata'), 'namespace')
      return stored(registry.create(definition, namespace || bodyNamespace || '', body, TEST_API_WRITE))
    },
    getObject: (resource, name, namespace = '') =>
      stored(registry.get(resourceDefinition(resource), namespace, name)),
    deleteObject: (resource, name, options = {}) => {
      const definition = resourceDefinition(resource)
      const result = registry.delete(definition, options.namespace ?? '', name, {
        ...TEST_API_WRITE,
        ...(options.gracePeriodSeconds === undefined
          ? {}
          : { gracePeriodSeconds: options.gracePeriodSeconds }),
      })
      return result.body
    },
  }
}
