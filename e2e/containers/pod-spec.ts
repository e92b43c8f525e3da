/**
 * The pod template fields the container runner (kubelet-runner.ts) carries out, and nothing
 * else: a rendered template with any other field fails the test by that field's path, so a
 * field added to the manifests is either implemented here or seen to be untested.
 */

/** `true`: a field understood as a whole; an object: its understood keys; `[shape]`: a list of those. */
type Shape = true | { readonly [key: string]: Shape } | readonly [Shape]

const PROBE: Shape = {
  exec: { command: true },
  httpGet: { scheme: true, path: true, port: true },
  initialDelaySeconds: true,
  periodSeconds: true,
  timeoutSeconds: true,
  failureThreshold: true,
  successThreshold: true,
}

const CONTAINER: Shape = {
  name: true,
  image: true,
  // Never or IfNotPresent: the images are local, nothing is pulled either way.
  imagePullPolicy: true,
  command: true,
  args: true,
  workingDir: true,
  env: [{ name: true, value: true, valueFrom: { fieldRef: { fieldPath: true, apiVersion: true } } }],
  // Documentation of the listening port: with host networking nothing is mapped.
  ports: [{ name: true, containerPort: true, protocol: true }],
  startupProbe: PROBE,
  livenessProbe: PROBE,
  readinessProbe: PROBE,
  securityContext: {
    allowPrivilegeEscalation: true,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    runAsUser: true,
    runAsGroup: true,
    capabilities: { drop: true },
  },
  volumeMounts: [{ name: true, mountPath: true, readOnly: true }],
}

const POD_SPEC: Shape = {
  serviceAccountName: true,
  automountServiceAccountToken: true,
  // Scheduling: the runner places the pods itself (one agent per test node).
  tolerations: [{ operator: true, effect: true, key: true }],
  securityContext: {
    runAsNonRoot: true,
    runAsUser: true,
    runAsGroup: true,
    fsGroup: true,
    seccompProfile: { type: true },
  },
  containers: [CONTAINER],
  volumes: [
    {
      name: true,
      configMap: { name: true, defaultMode: true, items: [{ key: true, path: true }] },
      secret: { secretName: true, defaultMode: true },
      emptyDir: {},
      persistentVolumeClaim: { claimName: true },
      projected: {
        sources: [{ serviceAccountToken: { audience: true, expirationSeconds: true, path: true } }],
      },
    },
  ],
}

const POD_TEMPLATE: Shape = { metadata: { labels: true, annotations: true }, spec: POD_SPEC }

/** The path of every field of `template` (a Deployment's or DaemonSet's `spec.template`) that the runner does not carry out. */
export function unsupportedFields(template: unknown): string[] {
  return unknownFields(template, POD_TEMPLATE, 'spec.template')
}

function unknownFields(value: unknown, shape: Shape, path: string): string[] {
  if (shape === true) return []
  if (Array.isArray(shape)) {
    if (!Array.isArray(value)) return [`${path} (expected a list)`]
    return value.flatMap((item, index) => unknownFields(item, shape[0] as Shape, `${path}[${index}]`))
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return [`${path} (expected an object)`]
  return Object.entries(value).flatMap(([key, child]) => {
    const childShape = (shape as { readonly [key: string]: Shape })[key]
    return childShape === undefined ? [`${path}.${key}`] : unknownFields(child, childShape, `${path}.${key}`)
  })
}

/** The pod template fields the runner reads, typed. */
export interface PodSpec {
  readonly serviceAccountName?: string
  readonly automountServiceAccountToken?: boolean
  readonly securityContext?: {
    readonly runAsNonRoot?: boolean
    readonly runAsUser?: number
    readonly runAsGroup?: number
    readonly fsGroup?: number
    readonly seccompProfile?: { readonly type: string }
  }
  readonly containers: readonly ContainerSpec[]
  readonly volumes?: readonly VolumeSpec[]
}

export interface ProbeSpec {
  readonly exec?: { readonly command: readonly string[] }
  readonly httpGet?: { readonly scheme?: string; readonly path?: string; readonly port: number | string }
  readonly initialDelaySeconds?: number
  readonly periodSeconds?: number
  readonly timeoutSeconds?: number
  readonly failureThreshold?: number
  readonly successThreshold?: number
}

export interface ContainerSpec {
  readonly name: string
  readonly image: string
  readonly imagePullPolicy?: string
  readonly command?: readonly string[]
  readonly args?: readonly string[]
  readonly workingDir?: string
  readonly env?: readonly {
    readonly name: string
    readonly value?: string
    readonly valueFrom?: { readonly fieldRef: { readonly fieldPath: string } }
  }[]
  readonly ports?: readonly { readonly name?: string; readonly containerPort: number }[]
  readonly startupProbe?: ProbeSpec
  readonly livenessProbe?: ProbeSpec
  readonly readinessProbe?: ProbeSpec
  readonly securityContext?: {
    readonly allowPrivilegeEscalation?: boolean
    readonly readOnlyRootFilesystem?: boolean
    readonly runAsNonRoot?: boolean
    readonly runAsUser?: number
    readonly runAsGroup?: number
    readonly capabilities?: { readonly drop?: readonly string[] }
  }
  readonly volumeMounts?: readonly {
    readonly name: string
    readonly mountPath: string
    readonly readOnly?: boolean
  }[]
}

export interface VolumeSpec {
  readonly name: string
  readonly configMap?: {
    readonly name: string
    readonly defaultMode?: number
    /** Only these keys, each at its path; a key the ConfigMap lacks holds the pod (FailedMount). */
    readonly items?: readonly { readonly key: string; readonly path: string }[]
  }
  readonly secret?: { readonly secretName: string; readonly defaultMode?: number }
  readonly emptyDir?: Record<string, never>
  readonly persistentVolumeClaim?: { readonly claimName: string }
  readonly projected?: {
    readonly sources: readonly {
      readonly serviceAccountToken: {
        readonly audience?: string
        readonly expirationSeconds?: number
        readonly path: string
      }
    }[]
  }
}
