import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { DaemonSet, Deployment } from 'kubernetes-models/apps/v1'
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1'
import {
  ConfigMap,
  Namespace,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-models/v1'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { findObject, type KubeObject, REPO_ROOT, renderKustomization } from '../support/manifests.ts'

/** Each kind the manifests may hold, with the validator generated from Kubernetes' OpenAPI schema. */
const MODELS: Readonly<Record<string, { new (data: never): { validate(): void } }>> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
}

const KUSTOMIZATIONS = ['deploy/base', 'deploy/overlays/kind'] as const

describe.each(KUSTOMIZATIONS)('kubectl kustomize %s', (directory) => {
  const objects = renderKustomization(directory)

  it('renders only kinds with a schema, each valid against it', () => {
    const problems: string[] = []
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`]
      if (Model === undefined) {
        problems.push(`${object.apiVersion} ${object.kind} "${object.metadata.name}": no schema listed here`)
        continue
      }
      try {
        new Model(asApiServerDecodes(object) as never).validate()
      } catch (error) {
        problems.push(`${object.kind} "${object.metadata.name}": ${(error as Error).message}`)
      }
    }
    expect(problems).toEqual([])
    expect(objects.length).toBeGreaterThanOrEqual(10)
  })

  it('puts every namespaced object in namespace spire', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding'])
    const elsewhere = objects
      .filter((object) => !clusterScoped.has(object.kind) && object.metadata.namespace !== 'spire')
      .map((object) => `${object.kind} ${object.metadata.name}: ${String(object.metadata.namespace)}`)
    expect(elsewhere).toEqual([])
  })

  it('runs both pods non-root, read-only, without privilege escalation or capabilities', () => {
    for (const [kind, name] of [
      ['Deployment', 'spire-server'],
      ['DaemonSet', 'spire-agent'],
    ] as const) {
      const pod = podSpecOf(findObject(objects, kind, name))
      expect(pod.securityContext, `${kind} ${name}`).toMatchObject({
        runAsNonRoot: true,
        runAsUser: 10001,
        seccompProfile: { type: 'RuntimeDefault' },
      })
      for (const container of pod.containers) {
        expect(container.securityContext, `${kind} ${name} container ${container.name}`).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        })
      }
    }
  })

  it('gives the server a writable /tmp under its read-only root, for SQLite temporary files', () => {
    const pod = podSpecOf(findObject(objects, 'Deployment', 'spire-server'))
    const mount = pod.containers[0]?.volumeMounts?.find((each) => each.mountPath === '/tmp')
    expect(mount?.readOnly).not.toBe(true)
    expect(pod.volumes?.find((volume) => volume.name === mount?.name)).toEqual({
      name: mount?.name,
      emptyDir: {},
    })
  })

  it('never restarts an agent for its SVID lapsing (the server down): startup and readiness probes only', () => {
    const container = podSpecOf(findObject(objects, 'DaemonSet', 'spire-agent'))
      .containers[0] as unknown as Record<string, { exec?: { command: readonly string[] } } | undefined>
    expect(container.livenessProbe).toBeUndefined()
    for (const probe of ['startupProbe', 'readinessProbe'])
      expect(container[probe]?.exec?.command.slice(0, 2), probe).toEqual(['k8s-attest-agent', 'healthcheck'])
  })

  it("mounts the agent's projected token for audience spire-server at /var/run/secrets/tokens/spire-agent", () => {
    const pod = podSpecOf(findObject(objects, 'DaemonSet', 'spire-agent'))
    expect(pod.serviceAccountName).toBe('spire-agent')
    const volume = pod.volumes?.find((candidate) => candidate.name === 'token')
    expect(volume?.projected?.sources).toEqual([
      { serviceAccountToken: { audience: 'spire-server', expirationSeconds: 7200, path: 'spire-agent' } },
    ])
    expect(pod.containers[0]?.volumeMounts).toContainEqual({
      name: 'token',
      mountPath: '/var/run/secrets/tokens',
      readOnly: true,
    })
  })

  it('lets the server keep the trust bundle in the ConfigMap the agents bootstrap from', () => {
    const serverConf = String(
      (findObject(objects, 'ConfigMap', 'spire-server').data as Record<string, string>)['server.conf'],
    )
    const agentConf = String(
      (findObject(objects, 'ConfigMap', 'spire-agent').data as Record<string, string>)['agent.conf'],
    )
    // SPIRE's defaults, which the base relies on: namespace spire, ConfigMap spire-bundle, key bundle.crt.
    const notifier = /Notifier\s+"k8sbundle"\s*\{\s*plugin_data\s*\{([^}]*)\}/.exec(serverConf)
    expect(notifier?.[1]?.trim(), 'Notifier "k8sbundle" with its defaults in server.conf').toBe('')
    expect(findObject(objects, 'ConfigMap', 'spire-bundle').data).toBeUndefined()

    const binding = findObject(objects, 'RoleBinding', 'k8s-attest-server-bundle') as unknown as {
      roleRef: { kind: string; name: string }
      subjects: readonly { kind: string; name: string; namespace: string }[]
    }
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'spire-server', namespace: 'spire' }])
    expect(binding.roleRef.kind).toBe('Role')
    const role = findObject(objects, 'Role', binding.roleRef.name) as unknown as { rules: readonly unknown[] }
    expect(role.rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        resourceNames: ['spire-bundle'],
        verbs: ['get', 'patch'],
      },
    ])
    expect(podSpecOf(findObject(objects, 'Deployment', 'spire-server')).serviceAccountName).toBe(
      'spire-server',
    )

    const agent = podSpecOf(findObject(objects, 'DaemonSet', 'spire-agent'))
    const volume = agent.volumes?.find((candidate) => candidate.name === 'bundle')
    expect(volume?.configMap).toEqual({
      name: 'spire-bundle',
      items: [{ key: 'bundle.crt', path: 'bundle.crt' }],
    })
    const mount = agent.containers[0]?.volumeMounts?.find(
      (candidate) => (candidate as { name: string }).name === 'bundle',
    ) as { mountPath: string } | undefined
    expect(/trust_bundle_path\s*=\s*"([^"]+)"/.exec(agentConf)?.[1]).toBe(`${mount?.mountPath}/bundle.crt`)
  })
})

describe('the kind overlay', () => {
  const objects = renderKustomization('deploy/overlays/kind')

  it('never pulls: the images come from kind load', () => {
    for (const [kind, name] of [
      ['Deployment', 'spire-server'],
      ['DaemonSet', 'spire-agent'],
    ] as const) {
      for (const container of podSpecOf(findObject(objects, kind, name)).containers)
        expect(container.imagePullPolicy, `${kind} ${name}`).toBe('Never')
    }
  })

  it("publishes the server on the host's 127.0.0.1:8081 through kind's port mapping and a NodePort", () => {
    const service = findObject(objects, 'Service', 'spire-server-host') as unknown as {
      spec: {
        type: string
        selector: Record<string, string>
        ports: readonly { nodePort: number; targetPort: string }[]
      }
    }
    expect(service.spec.type).toBe('NodePort')
    const deployment = findObject(objects, 'Deployment', 'spire-server') as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } }
    }
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector)
    const container = podSpecOf(findObject(objects, 'Deployment', 'spire-server'))
      .containers[0] as unknown as {
      ports: readonly { name: string; containerPort: number }[]
    }
    expect(container.ports.map((port) => port.name)).toContain(service.spec.ports[0]?.targetPort)

    const kind = parse(readFileSync(resolve(REPO_ROOT, 'kind-config.yaml'), 'utf8')) as {
      nodes: readonly { role: string; extraPortMappings?: readonly Record<string, unknown>[] }[]
    }
    const mappings = kind.nodes.flatMap((node) => node.extraPortMappings ?? [])
    expect(mappings).toEqual([
      {
        containerPort: service.spec.ports[0]?.nodePort,
        hostPort: 8081,
        listenAddress: '127.0.0.1',
        protocol: 'TCP',
      },
    ])
    expect(kind.nodes.find((node) => node.extraPortMappings !== undefined)?.role).toBe('control-plane')
  })

  it('supplies the admin Secret the server mounts', () => {
    const secret = findObject(objects, 'Secret', 'spire-server-admin')
    const pod = podSpecOf(findObject(objects, 'Deployment', 'spire-server'))
    const volume = pod.volumes?.find((candidate) => candidate.name === 'admin-token')
    expect(volume?.secret?.secretName).toBe(secret.metadata.name)
    const token = Buffer.from(String((secret.data as Record<string, string>)['admin-token']), 'base64')
    expect(token.length).toBeGreaterThanOrEqual(32)
  })
})

/**
 * kubectl wraps long base64 values of Secret `data` over several lines; kube-apiserver's base64
 * decoding skips the line breaks, the schema's `format: byte` does not.
 */
function asApiServerDecodes(object: KubeObject): KubeObject {
  if (object.kind !== 'Secret' || object.data === undefined) return object
  const data = Object.fromEntries(
    Object.entries(object.data as Record<string, string>).map(([key, value]) => [
      key,
      value.replace(/\s/g, ''),
    ]),
  )
  return { ...object, data }
}

interface PodSpecView {
  readonly serviceAccountName?: string
  readonly securityContext?: unknown
  readonly containers: readonly {
    readonly name: string
    readonly imagePullPolicy?: string
    readonly securityContext?: unknown
    readonly volumeMounts?: readonly {
      readonly name: string
      readonly mountPath: string
      readonly readOnly?: boolean
    }[]
  }[]
  readonly volumes?: readonly {
    readonly name: string
    readonly projected?: { readonly sources: readonly unknown[] }
    readonly secret?: { readonly secretName: string }
    readonly configMap?: unknown
  }[]
}

function podSpecOf(workload: KubeObject): PodSpecView {
  return (workload as unknown as { spec: { template: { spec: PodSpecView } } }).spec.template.spec
}
