import { pod as podSchema } from '../api-types.ts'
import {
  arrayAt,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  jsonEqual,
  numberAt,
  objectAt,
  stringAt,
} from '../json.ts'
import { randomSuffix, validateName } from '../names.ts'
import { type FieldError, forbidden } from '../status.ts'
import type { ResourceDefinition, WriteContext } from './definition.ts'

/**
 * Pods, with what kube-apiserver v1.32 does to them on the way in: the
 * `SetDefaults_Pod` defaults, the ServiceAccount, Priority and
 * DefaultTolerationSeconds admission plugins, and the pod strategy's status
 * and graceful-deletion rules. There is no kubelet: pods stay `Pending` until
 * a test sets their status, and a graceful delete leaves them terminating.
 */

/** Where the ServiceAccount admission plugin mounts the projected token volume. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount'

/**
 * The `expirationSeconds` the admission plugin gives the projected token:
 * one hour and seven seconds, the value that lets kube-apiserver recognise
 * kubelet's tokens and extend them (see `warnafter`).
 */
export const PROJECTED_TOKEN_EXPIRATION_SECONDS = 3607

const PRIORITY_CLASSES: Readonly<Record<string, number>> = {
  'system-node-critical': 2_000_001_000,
  'system-cluster-critical': 2_000_000_000,
}

const GROUP_RESOURCE = { group: '', resource: 'pods' }

function containersOf(spec: JsonObject, field: 'containers' | 'initContainers'): JsonObject[] {
  return (arrayAt(spec, field) ?? []).filter(isJsonObject)
}

/** `imagePullPolicy`'s default: `Always` for `:latest` or an untagged image, else `IfNotPresent`. */
function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent'
  const lastSegment = image.slice(image.lastIndexOf('/') + 1)
  const colon = lastSegment.lastIndexOf(':')
  if (colon === -1) return 'Always'
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent'
}

function defaultContainer(container: JsonObject): void {
  if (!stringAt(container, 'terminationMessagePath'))
    container.terminationMessagePath = '/dev/termination-log'
  if (!stringAt(container, 'terminationMessagePolicy')) container.terminationMessagePolicy = 'File'
  if (!stringAt(container, 'imagePullPolicy')) {
    container.imagePullPolicy = defaultPullPolicy(stringAt(container, 'image') ?? '')
  }
  for (const port of (arrayAt(container, 'ports') ?? []).filter(isJsonObject)) {
    if (!stringAt(port, 'protocol')) port.protocol = 'TCP'
  }
  // Limits without requests mean requests equal to the limits.
  const resources = objectAt(container, 'resources')
  const limits = objectAt(resources, 'limits')
  if (resources !== undefined && limits !== undefined) {
    const requests = objectAt(resources, 'requests') ?? {}
    for (const [name, quantity] of Object.entries(limits)) if (!(name in requests)) requests[name] = quantity
    resources.requests = requests
  }
}

function applyPodDefaults(pod: JsonObject): void {
  const spec = objectAt(pod, 'spec')
  if (spec === undefined) return
  if (!stringAt(spec, 'restartPolicy')) spec.restartPolicy = 'Always'
  if (numberAt(spec, 'terminationGracePeriodSeconds') === undefined) spec.terminationGracePeriodSeconds = 30
  if (!stringAt(spec, 'dnsPolicy')) spec.dnsPolicy = 'ClusterFirst'
  if (!isJsonObject(spec.securityContext)) spec.securityContext = {}
  if (!stringAt(spec, 'schedulerName')) spec.schedulerName = 'default-scheduler'
  const serviceAccountName = stringAt(spec, 'serviceAccountName')
  const deprecatedServiceAccount = stringAt(spec, 'serviceAccount')
  if (serviceAccountName && !deprecatedServiceAccount) spec.serviceAccount = serviceAccountName
  if (!serviceAccountName && deprecatedServiceAccount) spec.serviceAccountName = deprecatedServiceAccount
  if (typeof spec.enableServiceLinks !== 'boolean') spec.enableServiceLinks = true
  for (const container of [...containersOf(spec, 'initContainers'), ...containersOf(spec, 'containers')]) {
    defaultContainer(container)
  }
}

function validatePod(pod: JsonObject, previous: JsonObject | undefined): FieldError[] {
  const spec = objectAt(pod, 'spec') ?? {}
  if (previous !== undefined) return validatePodUpdate(spec, objectAt(previous, 'spec') ?? {})
  const errors: FieldError[] = []
  const containers = arrayAt(spec, 'containers') ?? []
  if (containers.length === 0) errors.push({ field: 'spec.containers', type: 'Required value' })
  const seen = new Set<string>()
  containers.forEach((container, index) => {
    const path = `spec.containers[${index}]`
    const entry = isJsonObject(container) ? container : {}
    const name = stringAt(entry, 'name') ?? ''
    if (name === '') errors.push({ field: `${path}.name`, type: 'Required value' })
    else {
      errors.push(...validateName(name, 'dns1123-label', `${path}.name`))
      if (seen.has(name)) errors.push({ field: `${path}.name`, type: 'Duplicate value', value: name })
      seen.add(name)
    }
    if (!stringAt(entry, 'image')) errors.push({ field: `${path}.image`, type: 'Required value' })
  })
  return errors
}

const POD_UPDATE_FORBIDDEN_DETAIL =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)'

/** Only images, `activeDeadlineSeconds` and added tolerations may change in a running pod's spec. */
function validatePodUpdate(spec: JsonObject, previousSpec: JsonObject): FieldError[] {
  const mutableRemoved = (value: JsonObject): JsonObject => {
    const copy = structuredClone(value)
    delete copy.activeDeadlineSeconds
    delete copy.tolerations
    for (const field of ['containers', 'initContainers'] as const) {
      for (const container of containersOf(copy, field)) delete container.image
    }
    return copy
  }
  const previousTolerations = arrayAt(previousSpec, 'tolerations') ?? []
  const tolerations = arrayAt(spec, 'tolerations') ?? []
  const tolerationsKept = previousTolerations.every((toleration) =>
    tolerations.some((candidate) => jsonEqual(candidate, toleration)),
  )
  if (jsonEqual(mutableRemoved(spec), mutableRemoved(previousSpec)) && tolerationsKept) return []
  return [{ field: 'spec', type: 'Forbidden', detail: POD_UPDATE_FORBIDDEN_DETAIL }]
}

/** The ServiceAccount admission plugin: default account, existence check, projected token volume. */
function admitServiceAccount(pod: JsonObject, context: WriteContext): void {
  const metadata = objectAt(pod, 'metadata') ?? {}
  const namespace = stringAt(metadata, 'namespace') ?? ''
  const spec = objectAt(pod, 'spec') ?? {}
  const accountName = stringAt(spec, 'serviceAccountName') || 'default'
  spec.serviceAccountName = accountName
  spec.serviceAccount = accountName
  const account = context.store.get('serviceaccounts', namespace, accountName)
  if (account === undefined) {
    throw forbidden(
      GROUP_RESOURCE,
      stringAt(metadata, 'name') ?? '',
      `error looking up service account ${namespace}/${accountName}: serviceaccount "${accountName}" not found`,
    )
  }
  const automount =
    typeof spec.automountServiceAccountToken === 'boolean'
      ? spec.automountServiceAccountToken
      : typeof account.automountServiceAccountToken === 'boolean'
        ? account.automountServiceAccountToken
        : true
  if (!automount) return

  const volumes = (arrayAt(spec, 'volumes') ?? []).filter(isJsonObject)
  const existing = volumes.find((volume) => (stringAt(volume, 'name') ?? '').startsWith('kube-api-access-'))
  const volumeName = stringAt(existing, 'name') ?? `kube-api-access-${randomSuffix()}`
  let needsVolume = false
  for (const container of [...containersOf(spec, 'initContainers'), ...containersOf(spec, 'containers')]) {
    const mounts = (arrayAt(container, 'volumeMounts') ?? []).filter(isJsonObject)
    if (mounts.some((mount) => stringAt(mount, 'mountPath') === SERVICE_ACCOUNT_MOUNT_PATH)) continue
    container.volumeMounts = [
      ...mounts,
      { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH },
    ]
    needsVolume = true
  }
  if (existing === undefined && needsVolume) spec.volumes = [...volumes, projectedTokenVolume(volumeName)]
}

/**
 * The `kube-api-access-*` volume. The reference cluster (kube-apiserver
 * v1.32.13 built from OpenShift's release-4.19 branch) also projects the
 * `openshift-service-ca.crt` config map; it is kept so that pods agree with
 * the recordings field for field.
 */
function projectedTokenVolume(name: string): JsonObject {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
        {
          configMap: {
            name: 'openshift-service-ca.crt',
            items: [{ key: 'service-ca.crt', path: 'service-ca.crt' }],
          },
        },
      ],
      defaultMode: 420,
    },
  }
}

/** The Priority admission plugin, with the two built-in priority classes. */
function admitPriority(pod: JsonObject): void {
  const spec = objectAt(pod, 'spec') ?? {}
  const className = stringAt(spec, 'priorityClassName') ?? ''
  const name = stringAt(objectAt(pod, 'metadata'), 'name') ?? ''
  let priority = 0
  if (className !== '') {
    const known = PRIORITY_CLASSES[className]
    if (known === undefined)
      throw forbidden(GROUP_RESOURCE, name, `no PriorityClass with name ${className} was found`)
    priority = known
  }
  const requested = numberAt(spec, 'priority')
  if (requested !== undefined && requested !== priority) {
    throw forbidden(
      GROUP_RESOURCE,
      name,
      `the integer value of priority (${requested}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    )
  }
  spec.priority = priority
  if (!stringAt(spec, 'preemptionPolicy')) spec.preemptionPolicy = 'PreemptLowerPriority'
}

/** The DefaultTolerationSeconds admission plugin: 300 s for not-ready and unreachable nodes. */
function admitDefaultTolerations(pod: JsonObject): void {
  const spec = objectAt(pod, 'spec') ?? {}
  const tolerations = (arrayAt(spec, 'tolerations') ?? []).filter(isJsonObject)
  const tolerates = (key: string): boolean =>
    tolerations.some((toleration) => {
      const tolerationKey = stringAt(toleration, 'key') ?? ''
      const effect = stringAt(toleration, 'effect') ?? ''
      return (tolerationKey === key || tolerationKey === '') && (effect === 'NoExecute' || effect === '')
    })
  const added: JsonObject[] = []
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 })
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added]
}

function resourceNames(container: JsonObject, field: 'limits' | 'requests'): Record<string, JsonValue> {
  return objectAt(objectAt(container, 'resources'), field) ?? {}
}

/** `qos.GetPodQOS`, for cpu and memory. */
export function podQosClass(spec: JsonObject): string {
  const containers = [...containersOf(spec, 'initContainers'), ...containersOf(spec, 'containers')]
  let anyResources = false
  let guaranteed = containers.length > 0
  for (const container of containers) {
    const limits = resourceNames(container, 'limits')
    const requests = resourceNames(container, 'requests')
    for (const resource of ['cpu', 'memory']) {
      if (resource in limits || resource in requests) anyResources = true
      const limit = limits[resource]
      if (limit === undefined || !jsonEqual(requests[resource] ?? limit, limit)) guaranteed = false
    }
  }
  if (!anyResources) return 'BestEffort'
  return guaranteed ? 'Guaranteed' : 'Burstable'
}

function prepareForCreate(pod: JsonObject, context: WriteContext): void {
  admitServiceAccount(pod, context)
  admitPriority(pod)
  admitDefaultTolerations(pod)
  pod.status = { phase: 'Pending', qosClass: podQosClass(objectAt(pod, 'spec') ?? {}) }
}

/** `CheckGracefulDelete`: the requested period, else the pod's own; unscheduled or finished pods go at once. */
function gracePeriodSeconds(pod: JsonObject, requested: number | undefined): number {
  const spec = objectAt(pod, 'spec') ?? {}
  let period = requested ?? numberAt(spec, 'terminationGracePeriodSeconds') ?? 0
  if (!stringAt(spec, 'nodeName')) period = 0
  const phase = stringAt(objectAt(pod, 'status'), 'phase')
  if (phase === 'Failed' || phase === 'Succeeded') period = 0
  return period < 0 ? 1 : period
}

/** The `pods` resource. */
export const pods: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'pods',
  kind: 'Pod',
  listKind: 'PodList',
  namespaced: true,
  schema: podSchema,
  nameRule: 'dns1123-subdomain',
  hasStatus: true,
  deleteReturnsObject: true,
  applyDefaults: applyPodDefaults,
  validate: validatePod,
  prepareForCreate,
  gracePeriodSeconds,
}
