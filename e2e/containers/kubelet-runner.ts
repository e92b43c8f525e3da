import { createWriteStream, type WriteStream } from 'node:fs'
import { chmod, chown, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { isKubeStatusError, type KubeTestApi } from '@k8s-attest/kube-test-api'
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers'
import type { KubeObject } from '../support/manifests.ts'
import { AtomicVolume } from './atomic-volume.ts'
import {
  type ContainerSpec,
  type PodSpec,
  type ProbeSpec,
  unsupportedFields,
  type VolumeSpec,
} from './pod-spec.ts'
import { type ProbeTarget, waitForProbe } from './probes.ts'
import { refreshDelayMs } from './token-refresh.ts'

/**
 * Does with a rendered pod template what kubelet would, on this machine: the pod is created in
 * the Kubernetes test API (which plays the cluster), every volume is materialised in a host
 * directory and bind-mounted, and each container runs with testcontainers on the local image,
 * with the template's command, args, env, user, read-only root file system and capabilities.
 *
 * Differences that follow from the machine, not from the manifests: containers share the host
 * network, so each pod gets its own loopback address as its IP (127.x.y.z, which the
 * manifests' `status.podIP` env receives), and Service names resolve to a pod IP through the
 * container's hosts file. Fields the runner does not carry out fail at start, by path
 * (pod-spec.ts).
 */

/** The cluster as the runner sees it. */
export interface Cluster {
  readonly api: KubeTestApi
  /** Rendered (and published) objects: ConfigMaps, Secrets, PVCs, ServiceAccounts are read from here. */
  readonly objects: KubeObject[]
  /** `<service>.<namespace>.svc` names and the pod IPs they resolve to. */
  readonly hosts: Readonly<Record<string, string>>
  /** Where volumes are materialised. */
  readonly stateDirectory: string
  /** Where each container's output is written, one file per container start. */
  readonly logDirectory: string
}

/** Where a pod runs. */
export interface PodPlacement {
  readonly namespace: string
  readonly name: string
  readonly nodeName: string
  /** A loopback address of its own. */
  readonly podIp: string
  /** A Deployment's or DaemonSet's `spec.template`. */
  readonly template: {
    readonly metadata?: { readonly labels?: Record<string, string> }
    readonly spec: PodSpec
  }
}

/** The in-cluster service account directory every pod with automount gets (kube-api-access). */
const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount'
/** The lifetime kubelet requests for the kube-api-access token. */
const KUBE_API_ACCESS_EXPIRATION_SECONDS = 3607

interface ProjectedToken {
  readonly volume: AtomicVolume
  readonly fileName: string
  readonly audience: string | undefined
  readonly expirationSeconds: number
  readonly extraFiles: Readonly<Record<string, string>>
  timer?: NodeJS.Timeout
  /** How many tokens were written. */
  generation: number
  /** The token the volume holds now. */
  current: string
}

interface Mount {
  readonly source: string
  readonly target: string
  readonly readOnly: boolean
}

/** Where each volume of a pod is on the host, by volume name; plus mounts kubelet adds itself. */
interface PodVolumes {
  readonly byName: ReadonlyMap<string, string>
  readonly added: readonly Mount[]
}

/** A pod started by {@link startPod}. */
export class RunningPod {
  readonly placement: PodPlacement
  readonly uid: string
  readonly #cluster: Cluster
  readonly #tokens: ProjectedToken[]
  readonly #volumes: PodVolumes
  readonly #env: Record<string, string>
  readonly #containers = new Map<string, StartedTestContainer>()
  readonly #restarts = new Map<string, number>()
  readonly #logs = new Map<string, string>()
  readonly #logFiles: WriteStream[] = []

  constructor(
    cluster: Cluster,
    placement: PodPlacement,
    uid: string,
    tokens: ProjectedToken[],
    volumes: PodVolumes,
    env: Record<string, string>,
  ) {
    this.#cluster = cluster
    this.placement = placement
    this.uid = uid
    this.#tokens = tokens
    this.#volumes = volumes
    this.#env = env
  }

  get spec(): PodSpec {
    return this.placement.template.spec
  }

  /** The template's container `name`. */
  containerSpec(name: string): ContainerSpec {
    const container = this.spec.containers.find((candidate) => candidate.name === name)
    if (container === undefined) throw new Error(`pod ${this.placement.name} has no container "${name}"`)
    return container
  }

  /** Starts container `name` (again, after {@link kill}: kubelet's restart, same volumes). */
  async startContainer(name: string): Promise<void> {
    const spec = this.containerSpec(name)
    const restart = this.#restarts.get(name) ?? -1
    this.#restarts.set(name, restart + 1)
    const logName = `${this.placement.namespace}_${this.placement.name}_${name}_${restart + 1}.log`
    const logFile = createWriteStream(join(this.#cluster.logDirectory, logName))
    this.#logFiles.push(logFile)
    this.#logs.set(name, '')
    const container = new PodContainer(spec.image)
      .withPullPolicy({ shouldPull: () => 'never' })
      .withNetworkMode('host')
      .withExtraHosts(Object.entries(this.#cluster.hosts).map(([host, ipAddress]) => ({ host, ipAddress })))
      .withEnvironment({ ...this.#env, ...resolveEnv(spec, this) })
      .withBindMounts(
        this.#mountsOf(spec).map((mount) => ({
          source: mount.source,
          target: mount.target,
          mode: mount.readOnly ? ('ro' as const) : ('rw' as const),
        })),
      )
      .withLogConsumer((stream) => {
        stream.on('data', (chunk: Buffer | string) => {
          logFile.write(chunk)
          this.#logs.set(name, (this.#logs.get(name) ?? '') + chunk.toString())
        })
      })
      // Any first line: the process started. Whether it works is for the probes to say.
      .withWaitStrategy(Wait.forLogMessage(/\S/))
      .withStartupTimeout(120_000)
    if (spec.command !== undefined) container.withEntrypoint([...spec.command])
    if (spec.args !== undefined) container.withCommand([...spec.args])
    if (spec.workingDir !== undefined) container.withWorkingDir(spec.workingDir)
    applySecurityContext(container, this.spec, spec)
    this.#containers.set(name, await container.start())
  }

  /** Kills container `name` at once (SIGKILL), as a crash or an OOM kill would. */
  async kill(name: string): Promise<void> {
    const container = this.#started(name)
    this.#containers.delete(name)
    await container.stop({ timeout: 0, remove: true })
  }

  /** Runs `command` in container `name`, as `kubectl exec` (and exec probes) do. */
  async exec(name: string, command: readonly string[]): Promise<{ exitCode: number; output: string }> {
    const result = await this.#started(name).exec([...command])
    return { exitCode: result.exitCode, output: result.output }
  }

  /** Everything container `name` printed since it last started. */
  logs(name: string): string {
    return this.#logs.get(name) ?? ''
  }

  /** The probe target for container `name`. */
  probeTarget(name: string): ProbeTarget {
    return {
      podIp: this.placement.podIp,
      container: this.containerSpec(name),
      exec: (command) => this.exec(name, command),
    }
  }

  /** Waits until container `name`'s `kind` probe, as the template defines it, passes. */
  async waitForProbe(
    name: string,
    kind: 'startupProbe' | 'livenessProbe' | 'readinessProbe',
  ): Promise<string> {
    const probe: ProbeSpec | undefined = this.containerSpec(name)[kind]
    if (probe === undefined) throw new Error(`container ${name} of ${this.placement.name} defines no ${kind}`)
    const result = await waitForProbe(probe, this.probeTarget(name), `${this.placement.name}/${name} ${kind}`)
    return result.detail
  }

  /** Refreshes every projected service account token now (kubelet does it at 80 % of the lifetime). */
  async refreshTokens(): Promise<void> {
    for (const token of this.#tokens) await this.#writeToken(token)
  }

  /** The token projected volume `volumeName` holds now, and how many were written to it. */
  projectedToken(volumeName: string): { readonly token: string; readonly generation: number } {
    const token = this.#tokens.find((candidate) => candidate.volume.directory.endsWith(`/${volumeName}`))
    if (token === undefined)
      throw new Error(`pod ${this.placement.name} has no projected token volume "${volumeName}"`)
    return { token: token.current, generation: token.generation }
  }

  /** Stops every container and the token refreshes; the volumes stay on disk. */
  async stop(): Promise<void> {
    for (const token of this.#tokens) clearTimeout(token.timer)
    for (const name of [...this.#containers.keys()]) await this.kill(name)
    await Promise.all(this.#logFiles.map((file) => new Promise((resolve) => file.end(resolve))))
  }

  /** Issues a token by TokenRequest, bound to this pod, and swaps it in; schedules the next refresh. */
  async #writeToken(token: ProjectedToken): Promise<void> {
    const { namespace } = this.placement
    const issued = this.#cluster.api.requestToken({
      namespace,
      serviceAccount: this.spec.serviceAccountName ?? 'default',
      ...(token.audience === undefined ? {} : { audiences: [token.audience] }),
      expirationSeconds: token.expirationSeconds,
      boundObject: { kind: 'Pod', name: this.placement.name, uid: this.uid },
    })
    const { uid, fsGroup } = podIdentity(this.spec)
    await token.volume.update(
      { ...token.extraFiles, [token.fileName]: issued.token },
      { uid, gid: fsGroup ?? uid, mode: 0o600 },
    )
    token.generation++
    token.current = issued.token
    clearTimeout(token.timer)
    const delay = refreshDelayMs(Date.now(), Date.parse(issued.expirationTimestamp))
    token.timer = setTimeout(() => void this.#writeToken(token), delay).unref()
  }

  #mountsOf(spec: ContainerSpec): Mount[] {
    const mounts = (spec.volumeMounts ?? []).map((volumeMount) => {
      const source = this.#volumes.byName.get(volumeMount.name)
      if (source === undefined) throw new Error(`volumeMount ${volumeMount.name} names no volume of the pod`)
      return { source, target: volumeMount.mountPath, readOnly: volumeMount.readOnly === true }
    })
    return [...mounts, ...this.#volumes.added]
  }

  #started(name: string): StartedTestContainer {
    const container = this.#containers.get(name)
    if (container === undefined) throw new Error(`container ${name} of ${this.placement.name} is not running`)
    return container
  }
}

/** GenericContainer with the host settings testcontainers has no method for. */
class PodContainer extends GenericContainer {
  /** `readOnlyRootFilesystem`. */
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true
    return this
  }

  /** Supplementary groups (kubelet adds `fsGroup`). */
  withGroups(groups: readonly number[]): this {
    this.hostConfig.GroupAdd = groups.map(String)
    return this
  }
}

/**
 * Creates pod `placement` in the test API, materialises its volumes and starts its containers.
 * Throws, naming them, for template fields the runner does not carry out.
 */
export async function startPod(cluster: Cluster, placement: PodPlacement): Promise<RunningPod> {
  const unsupported = unsupportedFields(placement.template)
  if (unsupported.length > 0) {
    throw new Error(`pod ${placement.name}: the runner does not carry out ${unsupported.join(', ')}`)
  }
  const { api } = cluster
  const { namespace, name, nodeName, podIp, template } = placement
  const created = api.createObject(
    'pods',
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace, labels: template.metadata?.labels ?? {} },
      spec: { ...structuredClone(template.spec), nodeName },
    } as never,
    namespace,
  )
  api.setPodStatus(namespace, name, { phase: 'Running', hostIP: podIp, podIP: podIp })

  const podDirectory = join(cluster.stateDirectory, 'pods', namespace, name)
  const identity = podIdentity(template.spec)
  const byName = new Map<string, string>()
  const added: Mount[] = []
  const tokens: ProjectedToken[] = []
  for (const volume of template.spec.volumes ?? []) {
    const directory = join(podDirectory, 'volumes', volume.name)
    const token = await materialiseVolume(cluster, namespace, volume, directory, identity)
    byName.set(volume.name, materialisedPath(cluster, namespace, volume, directory))
    if (token !== undefined) tokens.push(token)
  }
  const env: Record<string, string> = {}
  if (automountsServiceAccountToken(cluster, namespace, template.spec)) {
    // What the ServiceAccount admission plugin adds and kubelet fills: kube-api-access.
    const volume = await AtomicVolume.create(
      join(podDirectory, 'volumes', 'kube-api-access'),
      {},
      {
        uid: 0,
        gid: 0,
        mode: 0o644,
      },
    )
    tokens.push({
      volume,
      fileName: 'token',
      audience: undefined,
      expirationSeconds: KUBE_API_ACCESS_EXPIRATION_SECONDS,
      extraFiles: { 'ca.crt': api.caCertificatePem, namespace },
      generation: 0,
      current: '',
    })
    added.push({ source: volume.directory, target: SERVICE_ACCOUNT_MOUNT, readOnly: true })
    env.KUBERNETES_SERVICE_HOST = new URL(api.url).hostname
    env.KUBERNETES_SERVICE_PORT = String(api.port)
    env.KUBERNETES_SERVICE_PORT_HTTPS = String(api.port)
  }
  const pod = new RunningPod(cluster, placement, created.uid, tokens, { byName, added }, env)
  // kubelet fills the token volumes before it starts any container.
  await pod.refreshTokens()
  for (const container of template.spec.containers) await pod.startContainer(container.name)
  return pod
}

interface PodIdentity {
  readonly uid: number
  readonly gid: number
  readonly fsGroup: number | undefined
}

function podIdentity(spec: PodSpec): PodIdentity {
  const context = spec.securityContext ?? {}
  if (context.runAsUser === undefined)
    throw new Error('the runner needs securityContext.runAsUser (images run as a number)')
  return { uid: context.runAsUser, gid: context.runAsGroup ?? context.runAsUser, fsGroup: context.fsGroup }
}

/** The host directory a non-token volume lives in (PVCs outlive the pod, keyed by claim). */
function materialisedPath(
  cluster: Cluster,
  namespace: string,
  volume: VolumeSpec,
  directory: string,
): string {
  if (volume.persistentVolumeClaim !== undefined)
    return join(
      cluster.stateDirectory,
      'persistent-volumes',
      namespace,
      volume.persistentVolumeClaim.claimName,
    )
  return directory
}

async function materialiseVolume(
  cluster: Cluster,
  namespace: string,
  volume: VolumeSpec,
  directory: string,
  identity: PodIdentity,
): Promise<ProjectedToken | undefined> {
  const group = identity.fsGroup ?? 0
  if (volume.configMap !== undefined) {
    const data = selectItems(configMapData(cluster, volume.configMap.name, namespace), volume.configMap)
    await AtomicVolume.create(directory, data, {
      uid: 0,
      gid: group,
      mode: volume.configMap.defaultMode ?? 0o644,
    })
    return undefined
  }
  if (volume.secret !== undefined) {
    const data = dataOf(cluster, 'Secret', volume.secret.secretName, namespace, 'data', true)
    await AtomicVolume.create(directory, data, {
      uid: 0,
      gid: group,
      mode: volume.secret.defaultMode ?? 0o644,
    })
    return undefined
  }
  if (volume.emptyDir !== undefined || volume.persistentVolumeClaim !== undefined) {
    if (volume.persistentVolumeClaim !== undefined)
      findObject(cluster, 'PersistentVolumeClaim', volume.persistentVolumeClaim.claimName, namespace)
    const path = materialisedPath(cluster, namespace, volume, directory)
    // fsGroup as kubelet applies it: group-owned, group-writable, setgid.
    await mkdir(path, { recursive: true })
    await chown(path, 0, group)
    await chmod(path, 0o2775)
    return undefined
  }
  if (volume.projected !== undefined) {
    const [source, ...others] = volume.projected.sources
    if (source === undefined || others.length > 0)
      throw new Error(`projected volume ${volume.name}: the runner projects exactly one serviceAccountToken`)
    const { audience, expirationSeconds = 3600, path } = source.serviceAccountToken
    return {
      volume: await AtomicVolume.create(directory, {}, { uid: 0, gid: 0, mode: 0o644 }),
      fileName: path,
      audience,
      expirationSeconds,
      extraFiles: {},
      generation: 0,
      current: '',
    }
  }
  throw new Error(`volume ${volume.name}: no source the runner materialises`)
}

function findObject(cluster: Cluster, kind: string, name: string, namespace: string): KubeObject {
  const object = cluster.objects.find(
    (candidate) =>
      candidate.kind === kind &&
      candidate.metadata.name === name &&
      (candidate.metadata.namespace ?? namespace) === namespace,
  )
  if (object === undefined)
    throw new Error(`${kind} ${namespace}/${name} does not exist (kubelet would wait for it)`)
  return object
}

function dataOf(
  cluster: Cluster,
  kind: string,
  name: string,
  namespace: string,
  key: 'data',
  base64: boolean,
): Record<string, string | Uint8Array> {
  const data = (findObject(cluster, kind, name, namespace)[key] ?? {}) as Record<string, string>
  return Object.fromEntries(
    Object.entries(data).map(([file, value]) => [
      file,
      base64 ? Buffer.from(value.replace(/\s/g, ''), 'base64') : value,
    ]),
  )
}

/**
 * A ConfigMap's `data` as the API server holds it now (what the server's k8sbundle notifier
 * wrote), or as rendered when the API does not hold it (the configuration files).
 */
function configMapData(
  cluster: Cluster,
  name: string,
  namespace: string,
): Record<string, string | Uint8Array> {
  try {
    const stored = cluster.api.getObject('configmaps', name, namespace).object as {
      data?: Record<string, string>
    }
    return { ...stored.data }
  } catch (error) {
    if (!isKubeStatusError(error) || error.httpStatus !== 404) throw error
    return dataOf(cluster, 'ConfigMap', name, namespace, 'data', false)
  }
}

/** A volume's `items`: the keys named, each at its path; all of them when there are none. */
function selectItems(
  data: Record<string, string | Uint8Array>,
  volume: NonNullable<VolumeSpec['configMap']>,
): Record<string, string | Uint8Array> {
  if (volume.items === undefined) return data
  return Object.fromEntries(
    volume.items.map(({ key, path }) => {
      const value = data[key]
      if (value === undefined)
        throw new Error(
          `ConfigMap ${volume.name} has no key ${key} (kubelet would hold the pod: FailedMount)`,
        )
      return [path, value]
    }),
  )
}

function automountsServiceAccountToken(cluster: Cluster, namespace: string, spec: PodSpec): boolean {
  if (spec.automountServiceAccountToken !== undefined) return spec.automountServiceAccountToken
  const account = findObject(cluster, 'ServiceAccount', spec.serviceAccountName ?? 'default', namespace)
  return (account as { automountServiceAccountToken?: boolean }).automountServiceAccountToken !== false
}

/** `env`, with the downward API's field references filled as kubelet fills them. */
function resolveEnv(spec: ContainerSpec, pod: RunningPod): Record<string, string> {
  const fields: Readonly<Record<string, string>> = {
    'metadata.name': pod.placement.name,
    'metadata.namespace': pod.placement.namespace,
    'metadata.uid': pod.uid,
    'spec.nodeName': pod.placement.nodeName,
    'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
    'status.podIP': pod.placement.podIp,
    'status.hostIP': pod.placement.podIp,
  }
  return Object.fromEntries(
    (spec.env ?? []).map((variable) => {
      if (variable.value !== undefined) return [variable.name, variable.value]
      const fieldPath = variable.valueFrom?.fieldRef.fieldPath ?? ''
      const value = fields[fieldPath]
      if (value === undefined)
        throw new Error(`env ${variable.name}: fieldRef ${fieldPath} is not one the runner fills`)
      return [variable.name, value]
    }),
  )
}

function applySecurityContext(container: PodContainer, pod: PodSpec, spec: ContainerSpec): void {
  const podContext = pod.securityContext ?? {}
  const context = spec.securityContext ?? {}
  const uid = context.runAsUser ?? podContext.runAsUser
  const gid = context.runAsGroup ?? podContext.runAsGroup ?? uid
  if ((context.runAsNonRoot ?? podContext.runAsNonRoot) === true && (uid === undefined || uid === 0))
    throw new Error(
      `container ${spec.name}: runAsNonRoot without a non-zero runAsUser (kubelet refuses to start it)`,
    )
  if (uid !== undefined) container.withUser(`${uid}:${gid}`)
  if (podContext.fsGroup !== undefined) container.withGroups([podContext.fsGroup])
  const seccomp = podContext.seccompProfile?.type
  // Docker's default profile is the runtime default.
  if (seccomp !== undefined && seccomp !== 'RuntimeDefault')
    throw new Error(`seccompProfile ${seccomp}: the runner applies RuntimeDefault only`)
  if (context.readOnlyRootFilesystem === true) container.withReadOnlyRootFilesystem()
  if (context.allowPrivilegeEscalation === false) container.withSecurityOpt('no-new-privileges')
  if (context.capabilities?.drop !== undefined)
    container.withDroppedCapabilities(...context.capabilities.drop)
}
