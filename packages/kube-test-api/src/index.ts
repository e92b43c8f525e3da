export { type Clock, formatKubeTime, ManualClock, systemClock } from './clock.ts'
export type { RequestCount, RequestCounters, RequestFilter } from './counters.ts'
export {
  DEMO_AGENT_ACCOUNT,
  DEMO_NAMESPACE,
  DEMO_SERVER_ACCOUNT,
  DEMO_SERVER_ROLE,
  type DemoSeed,
  seedDemoCluster,
} from './demo-seed.ts'
export type { FaultRule, InjectedErrorStatus, InjectedFault } from './faults.ts'
export { ADMIN_NAME, type Identity, type IdentitySpec, type PolicyRule } from './identities.ts'
export type { JsonObject, JsonPrimitive, JsonValue } from './json.ts'
export { observeSignedTokens } from './jwt.ts'
export { type KubeconfigInput, renderKubeconfig } from './kubeconfig.ts'
export type { PodStatusInput } from './kubelet-status.ts'
export { generateSigningKey, keyIdOf, type SigningAlgorithm, type SigningKey } from './signing-key.ts'
export {
  isKubeStatusError,
  KUBE_TEST_ERROR_CODES,
  KubeStatusError,
  type KubeTestErrorCode,
  type StatusCause,
  type StatusDetails,
} from './status.ts'
export {
  type BoundObject,
  type FaultControls,
  type IssuedToken,
  type KubeconfigOptions,
  type KubeTestApi,
  type KubeTestApiOptions,
  type NodeInput,
  type PodInput,
  type StoredObject,
  startKubeTestApi,
  type TokenRequestInput,
} from './test-api.ts'
