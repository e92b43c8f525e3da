import { randomBytes } from 'node:crypto'
import { open, readdir, rename, rm } from 'node:fs/promises'
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

/** The temporary file names {@link writeFileAtomic} uses for `name`: `.<name>.<12 hex digits>.tmp`. */
function isTemporaryFileOf(entry: string, name: string): boolean {
  const prefix = `.${name}.`
  return entry.startsWith(prefix) && /^[0-9a-f]{12}\.tmp$/.test(entry.slice(prefix.length))
}

/**
 * Removes the temporary files a process killed in the middle of {@link writeFileAtomic} left
 * beside `names` in `directory` (a SIGKILL runs no cleanup): half-written, never read, but they
 * would pile up, one per kill. Only for a directory one process writes, at its start.
 *
 * @returns the paths removed; none for a directory that does not exist.
 */
export async function removeAbandonedTemporaryFiles(
  directory: string,
  names: readonly string[],
): Promise<string[]> {
  let entries: string[]
  try {
    entries = await readdir(directory)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  const abandoned = entries
    .filter((entry) => names.some((name) => isTemporaryFileOf(entry, name)))
    .map((entry) => join(directory, entry))
  for (const path of abandoned) await rm(path, { force: true })
  return abandoned
}
