/**
 * Loaded with `node --import` into an agent process by agent-killed.integration.test.ts, never
 * by the agent itself: it parks the process in the middle of writing one of its data_dir files,
 * so that the test can SIGKILL it exactly there — a moment a kill at random would almost never
 * hit.
 *
 * `K8S_ATTEST_TEST_STALL_WRITE` names the file (`agent-svid.pem`) and
 * `K8S_ATTEST_TEST_STALL_AT` which write of it to stall (1 = the first; default 1). That write's
 * temporary file receives the first half of the data, then the write never completes (no
 * fsync, no rename), and `stalled mid-write <temporary path>` goes to stderr.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module'
import { basename } from 'node:path'

const target = process.env.K8S_ATTEST_TEST_STALL_WRITE
const stallAt = Number(process.env.K8S_ATTEST_TEST_STALL_AT ?? '1')
if (target === undefined || !Number.isSafeInteger(stallAt) || stallAt < 1) {
  throw new Error('stall-write.preload: set K8S_ATTEST_TEST_STALL_WRITE (and K8S_ATTEST_TEST_STALL_AT ≥ 1)')
}

// The CommonJS object behind `node:fs/promises`; syncBuiltinESMExports() makes the ES module
// bindings (`import { open } from 'node:fs/promises'` in atomic-file.ts) follow the patch.
const fsPromises = createRequire(import.meta.url)('node:fs/promises') as typeof import('node:fs/promises')
const open = fsPromises.open
let writes = 0

fsPromises.open = async (...args: Parameters<typeof open>) => {
  const handle = await open(...args)
  const path = String(args[0])
  // writeFileAtomic's temporary file: `.<name>.<random hex>.tmp` beside the target.
  if (!basename(path).startsWith(`.${target}.`) || !path.endsWith('.tmp')) return handle
  writes++
  if (writes !== stallAt) return handle
  const writeFile = handle.writeFile.bind(handle)
  handle.writeFile = async (data: Parameters<typeof handle.writeFile>[0]) => {
    const text = String(data)
    await writeFile(text.slice(0, Math.floor(text.length / 2)))
    process.stderr.write(`stalled mid-write ${path}\n`)
    // Keep the process alive, parked here, until the test kills it.
    setInterval(() => undefined, 60_000)
    return new Promise<void>(() => undefined)
  }
  return handle
}
syncBuiltinESMExports()
