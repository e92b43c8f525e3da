import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

/*
 * The server's memory under attestation load, for `pnpm bench` and `pnpm bench:server-memory`
 * (figures printed, not a test): heap allocated per attestation, measured inside the server
 * process by heap-allocation.preload.ts, and RSS after a given number of attestations.
 */

/** Targets of issue 11. */
export const SERVER_MEMORY_TARGETS = { rssMiBAfter10k: 120, heapKBPerAttestation: 200 } as const

/** How to start the server with the allocation probe loaded, and where its report appears. */
export interface HeapProbe {
  readonly nodeFlags: readonly string[]
  readonly env: Readonly<Record<string, string>>
  readonly reportPath: string
}

/**
 * The probe's options for a server whose scratch files go into `dir`; with `profilePath`, the
 * window also writes a sampling heap profile there.
 */
export function heapProbe(dir: string, profilePath?: string): HeapProbe {
  const reportPath = join(dir, 'heap-allocation.json')
  const preload = fileURLToPath(new URL('./heap-allocation.preload.ts', import.meta.url))
  const env: Record<string, string> = { K8S_ATTEST_BENCH_HEAP_REPORT: reportPath }
  if (profilePath !== undefined) env.K8S_ATTEST_BENCH_HEAP_PROFILE = profilePath
  // --expose-gc only lets the probe collect fully as a window closes; nothing else calls gc().
  return { nodeFlags: ['--expose-gc', '--import', preload], env, reportPath }
}

/** What the probe reports for one window. */
export interface HeapAllocation {
  readonly allocatedBytes: number
  readonly collections: number
  readonly gcPauseMs: number
  /** The used heap after the window's last collection (NaN if none ran). */
  readonly liveAfterLastGcBytes: number
  /** The used heap after a full collection at the window's end (NaN without `--expose-gc`). */
  readonly liveAfterFullGcBytes: number
}

/**
 * Runs `work` inside one allocation window of the server `processId` (started with
 * {@link heapProbe}'s options) and returns what the server allocated meanwhile.
 */
export async function heapAllocatedDuring(
  processId: number,
  probe: HeapProbe,
  work: () => Promise<void>,
): Promise<HeapAllocation> {
  const before = await reportOrUndefined(probe.reportPath)
  process.kill(processId, 'SIGWINCH')
  await delay(50) // the signal is handled on the server's event loop, not at once
  await work()
  process.kill(processId, 'SIGWINCH')
  for (let attempt = 0; attempt < 100; attempt++) {
    await delay(50)
    const report = await reportOrUndefined(probe.reportPath)
    if (report !== undefined && report !== before) return JSON.parse(report) as HeapAllocation
  }
  throw new Error(`the server wrote no heap allocation report to ${probe.reportPath}`)
}

async function reportOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}
