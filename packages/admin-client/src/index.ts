/**
 * The admin API's client, one for every caller: `k8s-attest-server agent …` and the demo (and
 * through it the system tests). It speaks only core's wire types, so it depends on neither the
 * server's nor the agent's internals.
 */
export {
  AdminClient,
  type AdminClientOptions,
  type AdminConnectOptions,
  type AdminCredential,
  type AgentListFilter,
  adminAgentPath,
} from './admin-client.ts'
