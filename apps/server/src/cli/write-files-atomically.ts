import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'

/** One file for {@link writeFilesAtomically}. */
export interface FileToWrite {
  /** A plain file name inside the directory (no separators). */
  readonly name: string
  readonly content: string
  /** Permission bits, e.g. `0o600` for a private key; the umask may only remove bits. */
  readonly mode: number
}

/**
 * Writes each file into `directory` (created with mode 0700 if missing) so that a reader sees
 * either the old file or the whole new one, never a partial one: every file is first written
 * and flushed under a temporary name, created with its final mode (a key is never readable by
 * others, not even briefly), and only when all of them are on disk are they renamed over the
 * final names, then the directory is flushed. A failure while writing leaves the old files
 * untouched and removes the temporary ones.
 *
 * @returns the final paths, in the order given.
 * @throws {TypeError} for a name that is not a plain file name.
 */
export async function writeFilesAtomically(
  directory: string,
  files: readonly FileToWrite[],
): Promise<string[]> {
  for (const file of files) {
    if (file.name === '' || file.name === '.' || file.name === '..' || /[/\\]/.test(file.name)) {
      throw new TypeError(`file name ${JSON.stringify(file.name)} must be a plain name inside the directory`)
    }
  }
  await mkdir(directory, { recursive: true, mode: 0o700 })
  const written: { temporary: string; path: string }[] = []
  try {
    for (const file of files) {
      const path = join(directory, file.name)
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
      // 'wx': never follow or reuse a file already at the temporary name.
      const handle = await open(temporary, 'wx', file.mode)
      written.push({ temporary, path })
      try {
        await handle.writeFile(file.content)
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
  } catch (error) {
    await Promise.all(written.map(({ temporary }) => unlinkIfPresent(temporary)))
    throw error
  }
  for (const { temporary, path } of written) await rename(temporary, path)
  const handle = await open(directory, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
  return written.map(({ path }) => path)
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
