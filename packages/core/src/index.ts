/**
 * `@k8s-attest/core`: the pure building blocks shared by the k8s-attest server
 * and agent — errors, SPIFFE IDs, service account tokens (decoded, never
 * trusted), TokenReview interpretation, selectors, the wire contract and a
 * redacting wrapper for secrets. No I/O: nothing here reads files, the
 * network or the environment.
 *
 * @packageDocumentation
 */
export {
  agentIdPrefix,
  clusterNameProblem,
  type PsatAgentIdInput,
  type PsatAgentIdSource,
  psatAgentId,
  type SatAgentIdInput,
  satAgentId,
  serverSpiffeId,
} from './agent-id.ts'
export { checkClaimedAudiences } from './claimed-audience-check.ts'
export {
  ATTEST_ERROR_CODES,
  AttestError,
  type AttestErrorCode,
  type AttestErrorDetails,
  type AttestErrorOptions,
  isAttestError,
  isAttestErrorCode,
} from './errors.ts'
export { REDACTED, Secret } from './secret.ts'
export {
  compareSelectors,
  formatSelector,
  type PsatSelectorInput,
  parseSelector,
  psatSelectors,
  type SatSelectorInput,
  satSelectors,
  sortSelectors,
} from './selectors.ts'
export { canonicalSerialNumber } from './serial-number.ts'
export { checkServiceAccountAllowed, checkServiceAccountUid } from './service-account-check.ts'
export {
  type ClaimedServiceAccount,
  type DecodedLegacyServiceAccountToken,
  type DecodedProjectedServiceAccountToken,
  type DecodedServiceAccountToken,
  decodeServiceAccountTokenUnverified,
  type KubernetesObjectRef,
  LEGACY_SERVICE_ACCOUNT_CLAIMS,
  LEGACY_SERVICE_ACCOUNT_ISSUER,
  type LegacyServiceAccountClaims,
  PROJECTED_KUBERNETES_CLAIM,
  type ProjectedKubernetesClaim,
  type ProjectedServiceAccountClaims,
  type ServiceAccountTokenHeader,
} from './service-account-token.ts'
export {
  formatServiceAccountName,
  type ParsedServiceAccountUsername,
  parseServiceAccountUsername,
  SERVICE_ACCOUNT_USERNAME_PREFIX,
  type ServiceAccountName,
  type ServiceAccountUsernameProblem,
} from './service-account-username.ts'
export {
  assertPathSegment,
  formatSpiffeId,
  isSpiffeId,
  type ParseSpiffeIdOptions,
  parseSpiffeId,
  parseTrustDomain,
  SPIFFE_ID_MAX_BYTES,
  SPIFFE_SCHEME_PREFIX,
  type SpiffeId,
  spiffeIdProblem,
  TRUST_DOMAIN_MAX_BYTES,
  trustDomainProblem,
} from './spiffe-id.ts'
export {
  type InterpretTokenReviewOptions,
  interpretTokenReview,
  type ReviewedServiceAccount,
  TOKEN_REVIEW_EXTRA_KEYS,
  type TokenReviewStatusInput,
  type TokenReviewUserInput,
} from './token-review.ts'
// The wire schemas themselves are the `@k8s-attest/core/wire` entry (see wire.ts); their types are here.
export type {
  AgentListQuery,
  AgentListResponse,
  AgentView,
  AttestorType,
  AttestRequest,
  AttestResponse,
  BundleResponse,
  ClusterChanges,
  ConfigReloadResponse,
  Problem,
  RenewRequest,
  RenewResponse,
  Selector,
  SpiffeBundleKey,
  SvidResponse,
} from './wire.ts'
export {
  MAX_CSR_BYTES,
  MAX_TOKEN_BYTES,
  PROBLEM_CONTENT_TYPE,
  WIRE_PATHS,
} from './wire-constants.ts'
