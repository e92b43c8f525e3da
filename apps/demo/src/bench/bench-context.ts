import type { BenchCluster } from './bench-cluster.ts'
import type { BenchOptions } from './bench-options.ts'
import type { BenchServer } from './bench-server.ts'
import type { Figures } from './figures.ts'
import type { HeapProbe } from './server-memory.ts'

/**
 * What every figure module of the bench gets: the options, where to print, a work directory
 * of the run's own (removed at the end), the cluster, and the attestation server (k8s_psat,
 * SQLite) the run started, loaded with `heapProbe` to count what it allocates. A module that needs a server of its own (other datastore, other
 * mode, several processes) starts one under `workDir` with `startBenchServer` and stops it.
 */
export interface BenchContext {
  readonly options: BenchOptions
  readonly figures: Figures
  readonly workDir: string
  readonly cluster: BenchCluster
  readonly server: BenchServer
  /** The allocation probe `server` was started with (`heapAllocatedDuring`). */
  readonly heapProbe: HeapProbe
}
