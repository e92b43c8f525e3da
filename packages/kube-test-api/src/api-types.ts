import { type StructSchema, t } from './schema.ts'

/**
 * The Go types of the objects this package serves (k8s.io/api v0.32), as far
 * as the wire form needs them. Field order is Go declaration order, which is
 * the order kube-apiserver writes; `required` marks fields without
 * `omitempty`, `pointer` marks `*T` fields.
 */

const typeMeta = { kind: t.string, apiVersion: t.string }

const ownerReference = t.struct('v1.OwnerReference', {
  apiVersion: t.required(t.string),
  kind: t.required(t.string),
  name: t.required(t.string),
  uid: t.required(t.string),
  controller: t.pointer(t.bool),
  blockOwnerDeletion: t.pointer(t.bool),
})

/** `metav1.ObjectMeta`. */
export const objectMeta = t.struct('v1.ObjectMeta', {
  name: t.string,
  generateName: t.string,
  namespace: t.string,
  selfLink: t.string,
  uid: t.string,
  resourceVersion: t.string,
  generation: t.int64,
  creationTimestamp: t.required(t.time),
  deletionTimestamp: t.pointer(t.time),
  deletionGracePeriodSeconds: t.pointer(t.int64),
  labels: t.map(t.string),
  annotations: t.map(t.string),
  ownerReferences: t.listMap(ownerReference, 'uid'),
  finalizers: t.list(t.string, { type: 'set' }),
  managedFields: t.list(t.any),
})

const metadataField = objectMeta

/** `metav1.ListMeta`. */
export const listMeta = t.struct('v1.ListMeta', {
  selfLink: t.string,
  resourceVersion: t.string,
  continue: t.string,
  remainingItemCount: t.pointer(t.int64),
})

const containerPort = t.struct('v1.ContainerPort', {
  name: t.string,
  hostPort: t.int32,
  containerPort: t.required(t.int32),
  protocol: t.string,
  hostIP: t.string,
})

const envVar = t.struct('v1.EnvVar', {
  name: t.required(t.string),
  value: t.string,
  valueFrom: t.pointer(t.any),
})

const volumeMount = t.struct('v1.VolumeMount', {
  name: t.required(t.string),
  readOnly: t.bool,
  recursiveReadOnly: t.pointer(t.string),
  mountPath: t.required(t.string),
  subPath: t.string,
  mountPropagation: t.pointer(t.string),
  subPathExpr: t.string,
})

const resourceRequirements = t.struct('v1.ResourceRequirements', {
  limits: t.map(t.any, 'v1.ResourceList'),
  requests: t.map(t.any, 'v1.ResourceList'),
  claims: t.listMap(t.any, 'name'),
})

/** `v1.Container`. */
export const container = t.struct('v1.Container', {
  name: t.required(t.string),
  image: t.string,
  command: t.list(t.string),
  args: t.list(t.string),
  workingDir: t.string,
  ports: t.listMap(containerPort, 'containerPort', 'protocol'),
  envFrom: t.list(t.any),
  env: t.listMap(envVar, 'name'),
  resources: resourceRequirements,
  resizePolicy: t.list(t.any),
  restartPolicy: t.pointer(t.string),
  volumeMounts: t.listMap(volumeMount, 'mountPath'),
  volumeDevices: t.listMap(t.any, 'devicePath'),
  livenessProbe: t.pointer(t.any),
  readinessProbe: t.pointer(t.any),
  startupProbe: t.pointer(t.any),
  lifecycle: t.pointer(t.any),
  terminationMessagePath: t.string,
  terminationMessagePolicy: t.string,
  imagePullPolicy: t.string,
  securityContext: t.pointer(t.any),
  stdin: t.bool,
  stdinOnce: t.bool,
  tty: t.bool,
})

const volume = t.struct('v1.Volume', { name: t.required(t.string) })

const toleration = t.struct('v1.Toleration', {
  key: t.string,
  operator: t.string,
  value: t.string,
  effect: t.string,
  tolerationSeconds: t.pointer(t.int64),
})

/** `v1.PodSpec`. */
export const podSpec = t.struct('v1.PodSpec', {
  volumes: t.listMap(volume, 'name'),
  initContainers: t.listMap(container, 'name'),
  containers: t.required(t.listMap(container, 'name')),
  ephemeralContainers: t.listMap(t.any, 'name'),
  restartPolicy: t.string,
  terminationGracePeriodSeconds: t.pointer(t.int64),
  activeDeadlineSeconds: t.pointer(t.int64),
  dnsPolicy: t.string,
  nodeSelector: t.map(t.string),
  serviceAccountName: t.string,
  serviceAccount: t.string,
  automountServiceAccountToken: t.pointer(t.bool),
  nodeName: t.string,
  hostNetwork: t.bool,
  hostPID: t.bool,
  hostIPC: t.bool,
  shareProcessNamespace: t.pointer(t.bool),
  securityContext: t.pointer(t.any),
  imagePullSecrets: t.listMap(t.any, 'name'),
  hostname: t.string,
  subdomain: t.string,
  affinity: t.pointer(t.any),
  schedulerName: t.string,
  tolerations: t.list(toleration),
  hostAliases: t.listMap(t.any, 'ip'),
  priorityClassName: t.string,
  priority: t.pointer(t.int32),
  dnsConfig: t.pointer(t.any),
  readinessGates: t.list(t.any),
  runtimeClassName: t.pointer(t.string),
  enableServiceLinks: t.pointer(t.bool),
  preemptionPolicy: t.pointer(t.string),
  overhead: t.map(t.any, 'v1.ResourceList'),
  topologySpreadConstraints: t.listMap(t.any, 'topologyKey', 'whenUnsatisfiable'),
  setHostnameAsFQDN: t.pointer(t.bool),
  os: t.pointer(t.any),
  hostUsers: t.pointer(t.bool),
  schedulingGates: t.listMap(t.any, 'name'),
  resourceClaims: t.listMap(t.any, 'name'),
  resources: t.pointer(t.any),
})

const podIP = t.struct('v1.PodIP', { ip: t.required(t.string) })
const hostIP = t.struct('v1.HostIP', { ip: t.required(t.string) })

/** `v1.PodStatus`. */
export const podStatus = t.struct('v1.PodStatus', {
  phase: t.string,
  conditions: t.listMap(t.any, 'type'),
  message: t.string,
  reason: t.string,
  nominatedNodeName: t.string,
  hostIP: t.string,
  hostIPs: t.listMap(hostIP, 'ip'),
  podIP: t.string,
  podIPs: t.listMap(podIP, 'ip'),
  startTime: t.pointer(t.time),
  initContainerStatuses: t.list(t.any),
  containerStatuses: t.list(t.any),
  qosClass: t.string,
  ephemeralContainerStatuses: t.list(t.any),
  resize: t.string,
  resourceClaimStatuses: t.listMap(t.any, 'name'),
})

/** `v1.Pod`. */
export const pod = t.struct('v1.Pod', {
  ...typeMeta,
  metadata: metadataField,
  spec: podSpec,
  status: podStatus,
})

const nodeAddress = t.struct('v1.NodeAddress', { type: t.required(t.string), address: t.required(t.string) })

/** `v1.Node`. */
export const node = t.struct('v1.Node', {
  ...typeMeta,
  metadata: metadataField,
  spec: t.struct('v1.NodeSpec', {
    podCIDR: t.string,
    podCIDRs: t.list(t.string, { type: 'set' }),
    providerID: t.string,
    unschedulable: t.bool,
    taints: t.list(t.any),
    configSource: t.pointer(t.any),
    externalID: t.string,
  }),
  status: t.struct('v1.NodeStatus', {
    capacity: t.map(t.any, 'v1.ResourceList'),
    allocatable: t.map(t.any, 'v1.ResourceList'),
    phase: t.string,
    conditions: t.listMap(t.any, 'type'),
    addresses: t.listMap(nodeAddress, 'type'),
    daemonEndpoints: t.struct('v1.NodeDaemonEndpoints', {
      kubeletEndpoint: t.struct('v1.DaemonEndpoint', { Port: t.required(t.int32) }),
    }),
    nodeInfo: t.struct('v1.NodeSystemInfo', {
      machineID: t.required(t.string),
      systemUUID: t.required(t.string),
      bootID: t.required(t.string),
      kernelVersion: t.required(t.string),
      osImage: t.required(t.string),
      containerRuntimeVersion: t.required(t.string),
      kubeletVersion: t.required(t.string),
      kubeProxyVersion: t.required(t.string),
      operatingSystem: t.required(t.string),
      architecture: t.required(t.string),
      swap: t.pointer(t.any),
    }),
    images: t.list(t.any),
    volumesInUse: t.list(t.string),
    volumesAttached: t.list(t.any),
    config: t.pointer(t.any),
    runtimeHandlers: t.list(t.any),
    features: t.pointer(t.any),
  }),
})

/** `v1.Namespace`. */
export const namespace = t.struct('v1.Namespace', {
  ...typeMeta,
  metadata: metadataField,
  spec: t.struct('v1.NamespaceSpec', { finalizers: t.list(t.string) }),
  status: t.struct('v1.NamespaceStatus', { phase: t.string, conditions: t.listMap(t.any, 'type') }),
})

/** `v1.ServiceAccount`. */
export const serviceAccount = t.struct('v1.ServiceAccount', {
  ...typeMeta,
  metadata: metadataField,
  secrets: t.listMap(t.any, 'name'),
  imagePullSecrets: t.list(t.any),
  automountServiceAccountToken: t.pointer(t.bool),
})

/** `v1.Secret`. */
export const secret = t.struct('v1.Secret', {
  ...typeMeta,
  metadata: metadataField,
  immutable: t.pointer(t.bool),
  data: t.map(t.string, 'map[string][]uint8'),
  stringData: t.map(t.string),
  type: t.string,
})

/** `v1.ConfigMap`: `binaryData` is `map[string][]byte`, base64 on the wire like a Secret's `data`. */
export const configMap = t.struct('v1.ConfigMap', {
  ...typeMeta,
  metadata: metadataField,
  immutable: t.pointer(t.bool),
  data: t.map(t.string),
  binaryData: t.map(t.string, 'map[string][]uint8'),
})

const policyRule = t.struct('v1.PolicyRule', {
  verbs: t.required(t.list(t.string)),
  apiGroups: t.list(t.string),
  resources: t.list(t.string),
  resourceNames: t.list(t.string),
  nonResourceURLs: t.list(t.string),
})

/** `rbacv1.ClusterRole`. */
export const clusterRole = t.struct('v1.ClusterRole', {
  ...typeMeta,
  metadata: metadataField,
  rules: t.required(t.list(policyRule)),
  aggregationRule: t.pointer(t.any),
})

const subject = t.struct('v1.Subject', {
  kind: t.required(t.string),
  apiGroup: t.string,
  name: t.required(t.string),
  namespace: t.string,
})

const roleRef = t.required(
  t.struct(
    'v1.RoleRef',
    { apiGroup: t.required(t.string), kind: t.required(t.string), name: t.required(t.string) },
    { atomic: true },
  ),
)

/** `rbacv1.ClusterRoleBinding`. */
export const clusterRoleBinding = t.struct('v1.ClusterRoleBinding', {
  ...typeMeta,
  metadata: metadataField,
  subjects: t.list(subject),
  roleRef,
})

/** `rbacv1.Role`: a ClusterRole's rules, without aggregation, that apply in one namespace. */
export const role = t.struct('v1.Role', {
  ...typeMeta,
  metadata: metadataField,
  rules: t.required(t.list(policyRule)),
})

/** `rbacv1.RoleBinding`: a ClusterRoleBinding's fields; `roleRef` may name a Role. */
export const roleBinding = t.struct('v1.RoleBinding', {
  ...typeMeta,
  metadata: metadataField,
  subjects: t.list(subject),
  roleRef,
})

/** `authenticationv1.TokenRequest`. */
export const tokenRequest = t.struct('v1.TokenRequest', {
  ...typeMeta,
  metadata: metadataField,
  spec: t.required(
    t.struct('v1.TokenRequestSpec', {
      audiences: t.required(t.list(t.string)),
      expirationSeconds: t.requiredPointer(t.int64),
      boundObjectRef: t.requiredPointer(
        t.struct('v1.BoundObjectReference', {
          kind: t.string,
          apiVersion: t.string,
          name: t.string,
          uid: t.string,
        }),
      ),
    }),
  ),
  status: t.struct('v1.TokenRequestStatus', {
    token: t.required(t.string),
    expirationTimestamp: t.required(t.time),
  }),
})

/** `authenticationv1.TokenReview`. */
export const tokenReview = t.struct('v1.TokenReview', {
  ...typeMeta,
  metadata: metadataField,
  spec: t.required(t.struct('v1.TokenReviewSpec', { token: t.string, audiences: t.list(t.string) })),
  status: t.struct('v1.TokenReviewStatus', {
    authenticated: t.bool,
    user: t.struct('v1.UserInfo', {
      username: t.string,
      uid: t.string,
      groups: t.list(t.string),
      extra: t.map(t.list(t.string), 'map[string]v1.ExtraValue'),
    }),
    audiences: t.list(t.string),
    error: t.string,
  }),
})

/** `authorizationv1.SelfSubjectAccessReview`. */
export const selfSubjectAccessReview = t.struct('v1.SelfSubjectAccessReview', {
  ...typeMeta,
  metadata: metadataField,
  spec: t.required(
    t.struct('v1.SelfSubjectAccessReviewSpec', {
      resourceAttributes: t.pointer(
        t.struct('v1.ResourceAttributes', {
          namespace: t.string,
          verb: t.string,
          group: t.string,
          version: t.string,
          resource: t.string,
          subresource: t.string,
          name: t.string,
          fieldSelector: t.pointer(t.any),
          labelSelector: t.pointer(t.any),
        }),
      ),
      nonResourceAttributes: t.pointer(
        t.struct('v1.NonResourceAttributes', { path: t.string, verb: t.string }),
      ),
    }),
  ),
  status: t.struct('v1.SubjectAccessReviewStatus', {
    allowed: t.required(t.bool),
    denied: t.bool,
    reason: t.string,
    evaluationError: t.string,
  }),
})

/** `metav1.DeleteOptions`. */
export const deleteOptions = t.struct('v1.DeleteOptions', {
  ...typeMeta,
  gracePeriodSeconds: t.pointer(t.int64),
  preconditions: t.pointer(
    t.struct('v1.Preconditions', { uid: t.pointer(t.string), resourceVersion: t.pointer(t.string) }),
  ),
  orphanDependents: t.pointer(t.bool),
  propagationPolicy: t.pointer(t.string),
  dryRun: t.list(t.string),
  ignoreStoreReadErrorWithClusterBreakingPotential: t.pointer(t.bool),
})

/** The schema of an object kind served as a resource. */
export type ObjectSchema = StructSchema
