import { readdirSync, readFileSync } from 'node:fs'

/*
 * A process's CPU time and memory from /proc (Linux), read from outside the process: the
 * server's cost is measured without the load generator's own (a Node TLS client pays more
 * per handshake than the server does).
 */

/** USER_HZ: the unit of /proc/<pid>/stat's times, 100 on every Linux the project runs on. */
export const CLOCK_TICKS_PER_SECOND = 100

/** utime + stime of a process, in clock ticks (/proc/<pid>/stat fields 14 and 15). */
export function cpuTicks(processId: number): number {
  const stat = readFileSync(`/proc/${processId}/stat`, 'utf8')
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/**
 * utime + stime of `processId` and of its live children (a server's worker processes), in
 * clock ticks. A child that exits between the listing and the read counts 0: its CPU is lost
 * here (it reaches the parent's cutime only once reaped).
 */
export function treeCpuTicks(processId: number): number {
  let total = cpuTicks(processId)
  for (const child of childrenOf(processId)) {
    try {
      total += cpuTicks(child)
    } catch {
      // exited meanwhile
    }
  }
  return total
}

/** The children of every thread of `processId` (/proc/<pid>/task/<tid>/children). */
function childrenOf(processId: number): number[] {
  return readdirSync(`/proc/${processId}/task`).flatMap((tid) =>
    readFileSync(`/proc/${processId}/task/${tid}/children`, 'utf8')
      .split(' ')
      .filter((id) => id !== '')
      .map(Number),
  )
}

/**
 * A reading of a process's CPU time for {@link cpuMsBetween}: utime + stime in clock ticks, and
 * each live thread's time on a CPU in nanoseconds (`/proc/<pid>/task/<tid>/schedstat`, the
 * scheduler's `sum_exec_runtime`), or no threads where the kernel does not keep schedstat.
 */
export interface CpuReading {
  readonly ticks: number
  readonly threadNs: ReadonlyMap<string, number>
}

/** Reads `processId`'s CPU time, to the nanosecond where the kernel can. */
export function readCpu(processId: number): CpuReading {
  const threadNs = new Map<string, number>()
  try {
    for (const tid of readdirSync(`/proc/${processId}/task`)) {
      const schedstat = readFileSync(`/proc/${processId}/task/${tid}/schedstat`, 'utf8')
      threadNs.set(tid, Number(schedstat.slice(0, schedstat.indexOf(' '))))
    }
  } catch {
    // No schedstat (CONFIG_SCHED_INFO off), or a thread gone between the listing and its read.
    threadNs.clear()
  }
  return { ticks: cpuTicks(processId), threadNs }
}

/**
 * The process's CPU milliseconds between two readings. From the threads' nanoseconds when both
 * readings have them and no thread of the first is gone by the second (the time of an exited
 * thread is kept only in the process's ticks); else from the ticks, whose 10 ms steps are 3 % of
 * 300 bare requests' CPU.
 */
export function cpuMsBetween(before: CpuReading, after: CpuReading): number {
  const fromTicks = ticksToMs(after.ticks - before.ticks)
  if (before.threadNs.size === 0) return fromTicks
  let ns = 0
  for (const [tid, start] of before.threadNs) {
    const end = after.threadNs.get(tid)
    if (end === undefined) return fromTicks
    ns += end - start
  }
  // A thread started between the readings spent all its time in between.
  for (const [tid, end] of after.threadNs) if (!before.threadNs.has(tid)) ns += end
  return ns / 1e6
}

/** CPU milliseconds of `ticks` clock ticks. */
export function ticksToMs(ticks: number): number {
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND
}

/** VmRSS of a process, KiB. */
export function rssKiB(processId: number): number {
  const status = readFileSync(`/proc/${processId}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN)
}

/** VmRSS of a process, MiB. */
export function rssMiB(processId: number): number {
  return rssKiB(processId) / 1024
}
