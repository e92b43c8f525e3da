import { type HttpsAnswer, httpsRequest, requestJson } from './https-json.ts'

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

/** A dashboard session, signed in as a person does: the admin token posted to the sign-in form. */
export interface DashboardSession {
  /** `GET path` with the session's cookie. */
  get(path: string): Promise<HttpsAnswer>
}

/** Signs in to the dashboard with the admin token; rejects unless the server answers with a session cookie. */
export async function signInToDashboard(admin: AdminApi): Promise<DashboardSession> {
  const target = { ca: admin.ca, serverName: admin.serverName }
  const signIn = await httpsRequest({
    ...target,
    url: `${admin.url}/dashboard/sign-in`,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: admin.token }).toString(),
  })
  const cookie = signIn.headers['set-cookie']?.[0]?.split(';')[0]
  if (signIn.status !== 303 || cookie === undefined) {
    throw new Error(
      `dashboard sign-in: expected 303 with a session cookie, got ${signIn.status} ${signIn.text}`,
    )
  }
  return { get: (path) => httpsRequest({ ...target, url: `${admin.url}${path}`, headers: { cookie } }) }
}
