import { mkdtemp } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test as base, expect, type Page } from '@playwright/test'
import { eventually, type System, startSystem } from './system.ts'

/*
 * The dashboard's acceptance, in Debian's chromium against the real processes: the Kubernetes
 * test API seeded like the demo (three nodes), the server, and one agent per node. The tests
 * share that system and run in order, like an operator's session: what one test evicts or bans,
 * the next ones see.
 */

const SCREENSHOTS = new URL('../../.ci-artifacts/playwright/screenshots/', import.meta.url).pathname
const SEEDED_NODES = ['demo-node-1', 'demo-node-2', 'demo-node-3']

const test = base.extend<object, { system: System }>({
  system: [
    // biome-ignore lint/correctness/noEmptyPattern: Playwright's fixture signature.
    async ({}, use) => {
      const system = await startSystem(await mkdtemp(join(tmpdir(), 'k8s-attest-e2e-browser-')))
      try {
        await eventually(
          'every seeded agent to attest',
          async () => {
            const { json } = await system.admin('GET', '/v1/admin/agents')
            return (json as { agents: unknown[] }).agents.length === SEEDED_NODES.length ? true : undefined
          },
          60_000,
        )
        await use(system)
      } finally {
        await system.stop()
      }
    },
    { scope: 'worker', timeout: 120_000 },
  ],
})
test.describe.configure({ mode: 'serial' })

/** Signs in on the sign-in page, as a person would, and waits for the table. */
async function signIn(page: Page, system: System): Promise<void> {
  await page.goto(`${system.url}/dashboard/`)
  await expect(page).toHaveURL(/\/dashboard\/sign-in$/)
  await page.getByLabel('Admin token').fill(system.adminToken)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page).toHaveURL(/\/dashboard\/$/)
  await expect(page.getByRole('table')).toBeVisible()
}

/** The table row of the agent on `nodeName`. */
const rowOf = (page: Page, nodeName: string) =>
  page.getByRole('row').filter({ has: page.getByRole('cell', { name: nodeName, exact: true }) })

test('without a session, every page and API call is refused', async ({ page, system, request }) => {
  for (const path of [
    '/dashboard/',
    '/dashboard/api/overview',
    '/dashboard/api/session',
    '/v1/admin/agents',
  ]) {
    const response = await request.get(`${system.url}${path}`, { maxRedirects: 0 })
    expect([303, 401], path).toContain(response.status())
    if (response.status() === 303) expect(response.headers().location).toBe('/dashboard/sign-in')
    else expect((await response.json()).code).toBe('ATT_ERR_UNAUTHENTICATED')
  }
  const evict = await request.delete(`${system.url}/v1/admin/agents/${encodeURIComponent('spiffe://x/y')}`)
  expect(evict.status()).toBe(401)
  await page.goto(`${system.url}/dashboard/`)
  await expect(page).toHaveURL(/\/dashboard\/sign-in$/)
  await expect(page.getByRole('table')).toHaveCount(0)
  await page.getByLabel('Admin token').fill('not-the-admin-token')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('alert')).toContainText('That is not the admin token')
})

test('signed in, the agents appear with their node names', async ({ page, system }) => {
  await signIn(page, system)
  for (const node of SEEDED_NODES) {
    const row = rowOf(page, node)
    await expect(row).toHaveCount(1)
    await expect(row.getByText('attested', { exact: true })).toBeVisible()
    await expect(row.getByText('k8s_psat', { exact: true })).toBeVisible()
  }
  await expect(page.getByTestId('agent-counts')).toHaveText('3 attested · 0 expired · 0 banned')
  await expect(page.getByText('ready', { exact: true })).toBeVisible()
  await page.screenshot({ path: `${SCREENSHOTS}agents.png`, fullPage: true })
  await page.setViewportSize({ width: 390, height: 844 })
  await page.screenshot({ path: `${SCREENSHOTS}agents-phone.png`, fullPage: true })
})

test('search and filters narrow the list', async ({ page, system }) => {
  await signIn(page, system)
  const search = page.getByRole('searchbox', { name: 'Search' })
  await search.fill('DEMO-NODE-2')
  await search.press('Enter')
  await expect(page.getByRole('row')).toHaveCount(2) // the header and one agent
  await expect(rowOf(page, 'demo-node-2')).toHaveCount(1)

  await page.getByRole('button', { name: 'Clear' }).click()
  await expect(page.getByRole('row')).toHaveCount(4)
  await page.getByLabel('State', { exact: true }).selectOption('banned')
  await expect(page.getByText('No agents match.')).toBeVisible()
  await page.getByLabel('State', { exact: true }).selectOption('attested')
  await expect(page.getByRole('row')).toHaveCount(4)
  await page.getByLabel('Selector', { exact: true }).fill('k8s_psat:agent_node_name:demo-node-3')
  await page.getByRole('button', { name: 'Apply' }).click()
  await expect(page.getByRole('row')).toHaveCount(2)
  await expect(rowOf(page, 'demo-node-3')).toHaveCount(1)
})

test('the detail view shows every selector and the SVID serial', async ({ page, system }) => {
  await signIn(page, system)
  await rowOf(page, 'demo-node-1').getByRole('button').first().click()
  const dialog = page.getByRole('dialog', { name: 'Agent' })
  await expect(dialog).toBeVisible()
  const selectors = dialog.getByRole('list', { name: 'Selectors' })
  for (const selector of [
    'k8s_psat:cluster:demo',
    'k8s_psat:agent_ns:spire',
    'k8s_psat:agent_sa:spire-agent',
    'k8s_psat:agent_pod_name:spire-agent-1',
    'k8s_psat:agent_node_name:demo-node-1',
    'k8s_psat:agent_node_label:topology.kubernetes.io/zone:demo-zone-1',
  ]) {
    await expect(selectors.getByText(selector, { exact: true })).toBeVisible()
  }
  await expect(dialog.getByTestId('svid-serial')).toHaveText(/^[0-9a-f]+$/)
  await page.screenshot({ path: `${SCREENSHOTS}agent-detail.png` })
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
})

test('a forged cross-site evict is refused', async ({ page, system }) => {
  await signIn(page, system)
  const { json } = await system.admin('GET', '/v1/admin/agents?search=demo-node-1')
  const [target] = (json as { agents: { spiffe_id: string }[] }).agents
  if (target === undefined) throw new Error('demo-node-1 has no agent')
  // Another origin on the same host serves a page that tries to ban the agent with the signed-in
  // browser's cookies: a form post (no CSRF token can be had) and a fetch.
  const banUrl = `${system.url}/v1/admin/agents/${encodeURIComponent(target.spiffe_id)}/ban`
  const evictUrl = `${system.url}/v1/admin/agents/${encodeURIComponent(target.spiffe_id)}`
  const attacker: Server = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html')
    response.end(`<form id="f" method="post" action="${banUrl}"></form>
      <script>fetch(${JSON.stringify(evictUrl)}, { method: 'DELETE', mode: 'no-cors', credentials: 'include' })
        .finally(() => document.getElementById('f').submit())</script>`)
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  try {
    const address = attacker.address()
    if (address === null || typeof address === 'string') throw new Error('no attacker port')
    const refused = page.waitForResponse((response) => response.url() === banUrl)
    await page.goto(`http://127.0.0.1:${address.port}/`)
    expect((await refused).status()).toBe(401)
  } finally {
    attacker.close()
  }
  const after = await system.admin('GET', `/v1/admin/agents/${encodeURIComponent(target.spiffe_id)}`)
  expect(after.status).toBe(200)
  expect(after.json).toMatchObject({ banned: false })
})

test('evict: the agent disappears, then comes back re-attested', async ({ page, system }) => {
  await signIn(page, system)
  const row = rowOf(page, 'demo-node-3')
  await row.getByRole('button', { name: 'Evict demo-node-3' }).click()
  const confirm = page.getByRole('alertdialog', { name: 'Evict this agent?' })
  await expect(confirm).toBeVisible()
  await confirm.getByRole('button', { name: 'Evict agent' }).click()
  await expect(row).toHaveCount(0)
  await expect(page.getByTestId('agent-counts')).toHaveText('2 attested · 0 expired · 0 banned')
  // The agent attests again at its SVID's half-life (30 s); the page polls, no reload.
  await expect(row).toHaveCount(1, { timeout: 60_000 })
  await expect(row.getByText('attested', { exact: true })).toBeVisible()
})

test('ban: the agent is shown banned and stops', async ({ page, system }) => {
  await signIn(page, system)
  const row = rowOf(page, 'demo-node-2')
  await row.getByRole('button', { name: 'Ban demo-node-2' }).click()
  await page
    .getByRole('alertdialog', { name: 'Ban this agent?' })
    .getByRole('button', { name: 'Ban agent' })
    .click()
  await expect(row.getByText('banned', { exact: true })).toBeVisible()
  const agent = system.agents.get('demo-node-2')
  if (agent === undefined) throw new Error('no agent on demo-node-2')
  // Refused at its next attestation, the agent exits with its "banned" status (3).
  expect(await agent.process.exited).toBe(3)
  // The chart, fed by the server's counters, shows the refusal by its code.
  await expect(page.getByRole('list', { name: 'Refusals by code' })).toContainText('ATT_ERR_AGENT_BANNED', {
    timeout: 20_000,
  })
  await page.getByLabel('State', { exact: true }).selectOption('banned')
  await expect(page.getByRole('row')).toHaveCount(2)
})

test("a new node's agent appears without a reload", async ({ page, system }) => {
  await signIn(page, system)
  await expect(rowOf(page, 'demo-node-4')).toHaveCount(0)
  await system.addNode('demo-node-4')
  await expect(rowOf(page, 'demo-node-4')).toHaveCount(1, { timeout: 60_000 })
  // The story so far in one picture (the README's): four agents, one banned, its refusal charted.
  await page.screenshot({ path: `${SCREENSHOTS}dashboard.png` })
})

test('sign out: nothing is shown, and the old cookie opens nothing', async ({ page, system }) => {
  await signIn(page, system)
  const cookies = await page.context().cookies()
  await page.getByRole('button', { name: 'Sign out' }).click()
  await expect(page).toHaveURL(/\/dashboard\/sign-in$/)
  await expect(page.getByRole('table')).toHaveCount(0)
  await page.goto(`${system.url}/dashboard/`)
  await expect(page).toHaveURL(/\/dashboard\/sign-in$/)
  // Replaying the cookie the browser held before signing out is refused too.
  await page.context().addCookies(cookies)
  const response = await page.request.get(`${system.url}/dashboard/api/overview`)
  expect(response.status()).toBe(401)
  await page.goto(`${system.url}/dashboard/`)
  await expect(page.getByRole('table')).toHaveCount(0)
})
