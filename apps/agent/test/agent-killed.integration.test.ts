import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { canonicalSerialNumber } from '@k8s-attest/core'
import { afterEach, describe, expect, it } from 'vitest'
import { BUNDLE_FILE_NAME, loadStoredBundle, loadStoredSvid, SVID_FILE_NAME } from '../src/svid-store.ts'
import { type AgentFixture, createAgentFixture } from './agent-fixture.ts'
import { type AgentProcess, killHard, logLine, spawnAgent, stderrLine } from './agent-process.ts'
import { FakeServer } from './fake-server.ts'

/*
 * The fault matrix's "agent killed" (docs/failure-modes.md): a real `k8s-attest-agent run`
 * process SIGKILLed in the middle of an attestation and in the middle of writing its SVID
 * file, then started again on the same data_dir. A kill runs no cleanup, so what is on disk is
 * exactly what the atomic writes guarantee: the previous files or the new ones, never a torn
 * one. The restarted agent must come back with a valid identity (the stored SVID, or a new
 * attestation) without help.
 */

const STALL_WRITE = fileURLToPath(new URL('./stall-write.preload.ts', import.meta.url))

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

async function setup(svidTtlMs: number): Promise<{ server: FakeServer; fixture: AgentFixture }> {
  const server = await FakeServer.start({ svidTtlMs })
  cleanups.push(() => server.close())
  const fixture = await createAgentFixture({ serverPort: server.port, bundlePem: server.ca.certPem })
  cleanups.push(() => fixture.cleanup())
  return { server, fixture }
}

function runAgentProcess(fixture: AgentFixture, stall?: { file: string; at: number }): AgentProcess {
  return spawnAgent(['run', '-config', fixture.configPath], {
    cleanups,
    ...(stall === undefined
      ? {}
      : {
          preload: [STALL_WRITE],
          env: { K8S_ATTEST_TEST_STALL_WRITE: stall.file, K8S_ATTEST_TEST_STALL_AT: String(stall.at) },
        }),
  })
}

/** data_dir as a restarted agent finds it: its file names, and the stored SVID verified as the agent does. */
async function onDisk(fixture: AgentFixture) {
  const entries = (await readdir(fixture.dataDir).catch(() => [])).sort()
  const bundle = await loadStoredBundle(fixture.dataDir)
  const svid =
    bundle.status === 'usable'
      ? await loadStoredSvid(fixture.dataDir, {
          bundle: bundle.value,
          trustDomain: 'example.org',
          now: Date.now(),
        })
      : undefined
  return {
    entries,
    bundle: bundle.status,
    svid: svid?.status ?? 'missing',
    serial: svid?.status === 'usable' ? svid.value.serialNumber : undefined,
  }
}

/** The last SVID the server issued, in the agent's serial form. */
function lastIssuedSerial(server: FakeServer): string {
  const last = server.issued.at(-1)
  if (last === undefined) throw new Error('the server issued nothing')
  return canonicalSerialNumber(last.serialNumber)
}

/**
 * Starts the agent again without instrumentation and waits until it holds a valid identity:
 * the SVID it reuses or the one it obtained, stored whole in data_dir, nothing else left there.
 */
async function expectRecovers(fixture: AgentFixture, server: FakeServer) {
  const restarted = runAgentProcess(fixture)
  const identity = await logLine(restarted, ['reusing the SVID stored in data_dir', 'SVID obtained'])
  // A reused SVID past its half-life is rotated at once: wait for that SVID, the server's last.
  if (String(identity.msg).includes('reusing')) await logLine(restarted, 'SVID rotated')
  // The restarted agent's SVID is in data_dir only once its log says so; wait for the store.
  await expect
    .poll(async () => (await onDisk(fixture)).serial, { timeout: 10_000 })
    .toBe(lastIssuedSerial(server))
  expect(await onDisk(fixture)).toEqual({
    entries: [BUNDLE_FILE_NAME, SVID_FILE_NAME].sort(),
    bundle: 'usable',
    svid: 'usable',
    serial: lastIssuedSerial(server),
  })
  expect(restarted.output.stderr).toBe('')
  return { restarted, identity }
}

describe('the agent killed with SIGKILL, and restarted', () => {
  it('mid-attestation (the server recording it): nothing stored, and the restarted agent attests', {
    timeout: 60_000,
  }, async () => {
    const { server, fixture } = await setup(3_600_000)
    const held = server.holdNextAttestation()
    const agent = runAgentProcess(fixture)
    try {
      await held.arrived
      await killHard(agent)
    } finally {
      // The server finishes the attestation for an agent that is gone: that SVID is lost in flight.
      held.release()
    }
    await expect.poll(() => server.issued.length).toBe(1)
    expect((await onDisk(fixture)).svid).toBe('missing')

    const { restarted, identity } = await expectRecovers(fixture, server)
    expect(identity.msg).toBe('SVID obtained')
    expect(server.attestations).toHaveLength(2)
    expect(restarted.output.stdout).toContain('no trust bundle stored in data_dir yet')
  })

  it('mid-write of its first SVID: a torn temporary file, no SVID file; the restarted agent attests and clears it', {
    timeout: 60_000,
  }, async () => {
    const { server, fixture } = await setup(3_600_000)
    const agent = runAgentProcess(fixture, { file: SVID_FILE_NAME, at: 1 })
    await stderrLine(agent, 'stalled mid-write')
    await killHard(agent)
    const killed = await onDisk(fixture)
    expect(killed.svid).toBe('missing')
    expect(killed.entries).toEqual(
      [BUNDLE_FILE_NAME, expect.stringMatching(/^\.agent-svid\.pem\.[0-9a-f]{12}\.tmp$/)].sort(),
    )

    const { restarted, identity } = await expectRecovers(fixture, server)
    expect(identity.msg).toBe('SVID obtained')
    expect(restarted.output.stdout).toContain('removed the temporary files of a write cut short by a kill')
    expect(server.attestations).toHaveLength(2)
  })

  it('mid-write of a rotated SVID: the previous SVID stays whole and valid; the restarted agent reuses it or attests', {
    timeout: 60_000,
  }, async () => {
    // Rotation at half-life: 6 s after the first SVID, and the first stays valid for 12 s.
    const { server, fixture } = await setup(12_000)
    const agent = runAgentProcess(fixture, { file: SVID_FILE_NAME, at: 2 })
    const first = await logLine(agent, 'SVID obtained')
    await stderrLine(agent, 'stalled mid-write')
    await killHard(agent)
    expect(server.issued).toHaveLength(2)
    const killed = await onDisk(fixture)
    // The SVID the kill interrupted never reached the file; the first one is there, whole.
    expect(killed.serial).toBe(first.serial_number)
    expect(killed.svid).toBe('usable')
    expect(killed.entries).toContainEqual(expect.stringMatching(/^\.agent-svid\.pem\.[0-9a-f]{12}\.tmp$/))

    const { identity } = await expectRecovers(fixture, server)
    // Past its half-life, the reused SVID is rotated at once; expired (a slow restart), it is attested anew.
    if (identity.msg === 'SVID obtained') expect(server.attestations).toHaveLength(3)
    else expect(identity.serial_number).toBe(first.serial_number)
  })
})
