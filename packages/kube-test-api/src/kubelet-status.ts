import { formatKubeTime } from './clock.ts'
import type { JsonObject } from './json.ts'
import { objectAt } from './json.ts'
import type { Registry } from './registry.ts'
import { pods } from './resources/pods.ts'

/**
 * The pod status a kubelet would report, written through the `status`
 * subresource as a kubelet writes it (the test API runs no kubelet).
 */

/** The field manager of kubelet's status writes. */
export const KUBELET_MANAGER = 'kubelet'

/** What a kubelet would report about a pod. */
export interface PodStatusInput {
  /** Default `Running`. */
  readonly phase?: string
  /** The node's address (`status.hostIP`, `status.hostIPs`). */
  readonly hostIP?: string
  /** The pod's address (`status.podIP`, `status.podIPs`). */
  readonly podIP?: string
}

/** Updates pod `namespace/name`'s status; `now` becomes `startTime` when it starts running. */
export function reportPodStatus(
  registry: Registry,
  namespace: string,
  name: string,
  status: PodStatusInput,
  now: number,
): JsonObject {
  const pod = registry.get(pods, namespace, name)
  const next: JsonObject = { ...(objectAt(pod, 'status') ?? {}), phase: status.phase ?? 'Running' }
  if (status.hostIP !== undefined) {
    next.hostIP = status.hostIP
    next.hostIPs = [{ ip: status.hostIP }]
  }
  if (status.podIP !== undefined) {
    next.podIP = status.podIP
    next.podIPs = [{ ip: status.podIP }]
  }
  if (next.startTime === undefined && next.phase === 'Running') next.startTime = formatKubeTime(now)
  return registry.update(
    pods,
    namespace,
    name,
    { ...pod, status: next },
    { manager: KUBELET_MANAGER },
    'status',
  )
}
