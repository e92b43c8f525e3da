import { requestJson } from './https-json.ts'

/** An agent as `GET /v1/admin/agents` shows it (the fields these tests read). */
export interface AgentRecord {
  readonly spiffe_id: string
  readonly svid_serial: string
  readonly last_attested_at: string
  readonly banned: boolean
}

/** Where and how to call the server's admin API, as an operator would. */
export interface AdminApi {
  /** `https://<server pod IP>:8081`. */
  readonly url: string
  /** The name the serving certificate is checked against (the Service name). */
  readonly serverName: string
  /** The trust bundle (the server's CA certificates, PEM). */
  readonly ca: string
  /** The bearer token from the admin Secret. */
  readonly token: string
}

/** Every attested agent, sorted by SPIFFE ID. */
export async function listAgents(admin: AdminApi): Promise<AgentRecord[]> {
  const body = (await requestJson({
    url: `${admin.url}/v1/admin/agents`,
    ca: admin.ca,
    serverName: admin.serverName,
    bearerToken: admin.token,
  })) as { agents: AgentRecord[] }
  return [...body.agents].sort((a, b) => a.spiffe_id.localeCompare(b.spiffe_id))
}
