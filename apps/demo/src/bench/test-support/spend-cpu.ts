/**
 * Keeps this thread on a CPU until the process has used `ms` of CPU time — CPU time, not wall
 * time, so that a busy CI machine does not shorten what a test expects to be measured.
 */
export function spendCpu(ms: number): void {
  const start = process.cpuUsage()
  let used = 0
  while (used < ms * 1000) {
    const { user, system } = process.cpuUsage(start)
    used = user + system
  }
}
