/**
 * The names of structured log fields, kept in one place (after SPIRE's
 * `pkg/common/telemetry/names.go`) so that every line about an agent can be
 * found by the same key, whichever module wrote it.
 */
export const LOG_FIELDS = {
  /** The agent's SPIFFE ID. */
  agentId: 'agent_id',
  /** The cluster name from the server configuration. */
  cluster: 'cluster',
  /** The node attestor, `k8s_psat` or `k8s_sat`. */
  attestor: 'attestor',
  /** The agent's service account, `namespace:name`. */
  serviceAccount: 'service_account',
  /**
   * The attesting token's credential ID as the API server reports it (`JTI=<jti>`): the key
   * kube-apiserver's audit log uses for the same token. An identifier, never the token.
   */
  credentialId: 'credential_id',
  /** A stable error code, `ATT_ERR_*`. */
  code: 'code',
  /** The check that refused a request, e.g. `service_account_allow_list`. */
  check: 'check',
  /** The offending value of a refused check (never a token). */
  value: 'value',
  /** An HTTP request's method, `GET`. */
  method: 'method',
  /** The route an HTTP request matched, as declared: `/v1/admin/agents/:spiffe_id`. */
  route: 'route',
  /**
   * Which process of `server.workers` wrote the line: the node:cluster worker id (1, 2, …), or
   * `primary`. Absent when the server runs as one process.
   */
  worker: 'worker',
} as const
