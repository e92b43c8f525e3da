import { join } from 'node:path'
import { agentCsrPem, psatAttestations } from './attestation-figures.ts'
import type { BenchContext } from './bench-context.ts'
import { startBenchServer } from './bench-server.ts'
import { warmBenchClient } from './client-warm-up.ts'
import { againstTarget } from './figures.ts'
import { quantile } from './load-series.ts'

/** The first attestation after start may cost at most this many warm ones (c1 p50). */
export const FIRST_ATTESTATION_TARGET = 3

/**
 * The first attestation after start, timed on `options.firstStarts` servers of their own, each
 * started fresh (new data directory, new CA) and stopped after it: one start says little on a
 * shared machine, where the same figure moved from 2.9 × to 4.2 × within an hour. Prints the
 * median and the range, and holds the median against {@link FIRST_ATTESTATION_TARGET} × `warmP50`
 * (the c1 p50 of the main server's measured series).
 */
export async function measureFirstAttestations(context: BenchContext, warmP50: number): Promise<void> {
  const { options, figures, cluster, workDir } = context
  const csrPem = await agentCsrPem()
  const firsts: number[] = []
  for (let start = 0; start < options.firstStarts; start++) {
    const server = await startBenchServer(join(workDir, `server-first-${start}`), cluster.cluster, {
      serverProcess: options,
    })
    try {
      await warmBenchClient()
      firsts.push(await psatAttestations(server, cluster, csrPem)(start))
    } finally {
      await server.server.stop()
    }
  }
  firsts.sort((a, b) => a - b)
  const median = quantile(firsts, 0.5)
  figures.record(
    `first attestation after start, ${firsts.length} starts: median (min–max) (ms)`,
    `${median.toFixed(1)} (${firsts[0]?.toFixed(1)}–${firsts.at(-1)?.toFixed(1)})`,
  )
  figures.record(
    'first attestation (median) / warm p50 at c1',
    againstTarget(median / warmP50, FIRST_ATTESTATION_TARGET, '×'),
  )
}
