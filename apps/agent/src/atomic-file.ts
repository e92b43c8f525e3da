import { randomBytes } from 'node:crypto'
import { open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** The signature of {@link writeFileAtomic}, for code that takes the writer as a dependency. */
export type AtomicFileWriter = (path: string, data: string, mode: number) => Promise<void>

/**
 * Replaces `path` with `data` so that a reader, or the agent after a crash or power loss, sees
 * either the old content or the new, never a mix: the data goes to a temporary file in the same
 * directory (created with `mode` from the start, so a key is never readable by others, not even
 * briefly), is flushed to disk, renamed over `path` (atomic on POSIX file systems), and the
 * directory is flushed so the rename itself survives a crash.
 */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const directory = dirname(path)
  const temporary = join(directory, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    const file = await open(temporary, 'wx', mode)
    try {
      // The umask may have cleared bits of `mode`; never widened it, but state it exactly.
      await file.chmod(mode)
      await file.writeFile(data)
      await file.sync()
    } finally {
      await file.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
  const directoryHandle = await open(directory, 'r')
  try {
    await directoryHandle.sync()
  } finally {
    await directoryHandle.close()
  }
}
