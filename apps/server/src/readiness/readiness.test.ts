import { AttestError } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { FakeClusterClient } from '../../test/fake-cluster-client.ts'
import { permissionsFor, REQUIRED_PERMISSIONS } from '../kubernetes/cluster-client.ts'
import { createLogger } from '../logging/logger.ts'
import { DEFAULT_FAILING_RECHECK_MS, DEFAULT_PERMISSION_RECHECK_MS, Readiness } from './readiness.ts'

const PERMISSIONS = permissionsFor(REQUIRED_PERMISSIONS.k8s_psat, ['spire:spire-agent'])
/** SelfSubjectAccessReviews per permission check: one per required permission. */
const PER_CHECK = PERMISSIONS.length

interface LogLine {
  readonly level: string
  readonly msg: string
  readonly check?: string
}

/** A Readiness over one k8s_psat cluster, with a manual clock, a datastore that can fail, and the log kept. */
function scenario() {
  const client = new FakeClusterClient()
  const clock = { now: 0 }
  const store = { failure: undefined as Error | undefined }
  const lines: LogLine[] = []
  const readiness = new Readiness({
    store: {
      ping: async () => {
        if (store.failure !== undefined) throw store.failure
      },
    },
    targets: [{ attestor: 'k8s_psat', cluster: 'demo', client, permissions: PERMISSIONS }],
    logger: createLogger({
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line) as LogLine) },
    }),
    now: () => clock.now,
  })
  const checks = () => client.calls.filter((call) => call.startsWith('checkPermission')).length
  return { client, clock, store, lines, readiness, checks }
}

describe('Readiness', () => {
  it('checks permissions at the first probe when they were never checked', async () => {
    const { readiness, checks } = scenario()
    expect(await readiness.report()).toEqual({ ready: true, problems: [] })
    expect(checks()).toBe(1 * PER_CHECK)
  })

  it('turns ready at the first probe after RBAC is fixed, not a minute later', async () => {
    const { client, clock, readiness, checks, lines } = scenario()
    client.deniedPermissions.add('get pods in namespace spire')
    await readiness.checkPermissionsNow()
    expect((await readiness.report()).problems).toEqual([
      'cluster "demo" (k8s_psat): the server\'s identity may not get pods in namespace spire',
    ])
    client.deniedPermissions.clear()
    clock.now += DEFAULT_FAILING_RECHECK_MS - 1
    expect((await readiness.report()).ready).toBe(false) // checked too recently to ask again
    expect(checks()).toBe(1 * PER_CHECK)
    clock.now += 1
    expect(await readiness.report()).toEqual({ ready: true, problems: [] })
    expect(checks()).toBe(2 * PER_CHECK)
    expect(lines.map((line) => line.msg)).toEqual([
      'cluster "demo" (k8s_psat): the server\'s identity may not get pods in namespace spire; add these rules to the server\'s RBAC (a ClusterRole, and a Role per namespace bound to it):\n# Role in namespace spire\n- apiGroups: [""]\n  resources: ["pods"]\n  verbs: ["get"]',
      'not ready: cluster "demo" (k8s_psat): the server\'s identity may not get pods in namespace spire',
      'cluster "demo" (k8s_psat): all required permissions granted',
      'ready',
    ])
  })

  it('while ready, re-checks at a probe once the check is a minute old', async () => {
    const { client, clock, readiness, checks } = scenario()
    await readiness.checkPermissionsNow()
    client.deniedPermissions.add('create tokenreviews')
    clock.now += DEFAULT_PERMISSION_RECHECK_MS - 1
    expect((await readiness.report()).ready).toBe(true)
    expect(checks()).toBe(1 * PER_CHECK)
    clock.now += 1
    expect((await readiness.report()).ready).toBe(false)
    expect(checks()).toBe(2 * PER_CHECK)
  })

  it('re-checks at once when an attestation meets a refusal, at most once per failing interval', async () => {
    const { client, clock, readiness, checks } = scenario()
    await readiness.checkPermissionsNow()
    expect((await readiness.report()).ready).toBe(true)
    client.deniedPermissions.add('get nodes')
    clock.now += DEFAULT_FAILING_RECHECK_MS
    readiness.apiRefusedServer()
    readiness.apiRefusedServer() // joins the check already running
    await readiness.checkPermissionsNow()
    expect(checks()).toBe(2 * PER_CHECK)
    expect((await readiness.report()).ready).toBe(false)
    // A refusal right after a check only marks it suspect: the next probe past the failing
    // interval asks again, even though the last answer was "granted".
    client.deniedPermissions.clear()
    await readiness.checkPermissionsNow()
    client.deniedPermissions.add('get nodes')
    clock.now += 1
    readiness.apiRefusedServer()
    expect(checks()).toBe(3 * PER_CHECK)
    expect((await readiness.report()).ready).toBe(true)
    clock.now += DEFAULT_FAILING_RECHECK_MS
    expect((await readiness.report()).ready).toBe(false)
    expect(checks()).toBe(4 * PER_CHECK)
  })

  it('logs an API that cannot be asked once, with the cause, however many probes fail', async () => {
    const { client, clock, readiness, lines } = scenario()
    const goaway = Object.assign(new Error('HTTP/2: "GOAWAY" frame received with code 0'), {
      code: 'UND_ERR_SOCKET',
    })
    client.failures.set(
      'checkPermission',
      new AttestError(
        'ATT_ERR_KUBE_API_UNAVAILABLE',
        'Kubernetes API call create selfsubjectaccessreviews in cluster "demo" failed: fetch failed',
        { check: 'kube_api', cluster: 'demo', cause: new TypeError('fetch failed', { cause: goaway }) },
      ),
    )
    for (let probe = 0; probe < 10; probe++) {
      expect((await readiness.report()).ready).toBe(false)
      clock.now += DEFAULT_FAILING_RECHECK_MS
    }
    const errors = lines.filter((line) => line.level === 'error')
    expect(errors.map((line) => line.msg)).toEqual([
      'cluster "demo" (k8s_psat): cannot check permissions: Kubernetes API call create selfsubjectaccessreviews in cluster "demo" failed: fetch failed (ATT_ERR_KUBE_API_UNAVAILABLE): HTTP/2: "GOAWAY" frame received with code 0 (UND_ERR_SOCKET)',
    ])
    expect(lines.filter((line) => line.msg.startsWith('not ready'))).toHaveLength(1)
  })

  it('logs a failing datastore once, and once when it answers again', async () => {
    const { store, readiness, lines } = scenario()
    await readiness.report()
    store.failure = new Error('SQLITE_BUSY: database is locked')
    for (let probe = 0; probe < 5; probe++) {
      expect((await readiness.report()).problems).toEqual(['the datastore does not answer'])
    }
    store.failure = undefined
    expect((await readiness.report()).ready).toBe(true)
    expect(lines.filter((line) => line.check === 'datastore_ping').map((line) => line.msg)).toEqual([
      'datastore ping failed: SQLITE_BUSY: database is locked',
      'datastore answers again',
    ])
    expect(
      lines.map((line) => line.msg).filter((msg) => msg === 'ready' || msg.startsWith('not ready')),
    ).toEqual(['ready', 'not ready: the datastore does not answer', 'ready'])
  })

  it('runs one check at a time for concurrent probes', async () => {
    const { client, readiness, checks } = scenario()
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    client.hold = () => held
    const probes = Promise.all([readiness.report(), readiness.report(), readiness.report()])
    release()
    await probes
    expect(checks()).toBe(1 * PER_CHECK)
  })
})
