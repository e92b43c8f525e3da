import { chown, mkdir, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Who owns a volume's files, and their mode. */
export interface FileOwnership {
  readonly uid: number
  readonly gid: number
  readonly mode: number
}

/**
 * A ConfigMap, Secret or projected volume laid out as kubelet's atomic writer does: the files
 * live in a timestamped directory, `..data` links to the current one, and each file name links
 * through `..data`. An update writes a new directory and swaps `..data` with one rename, so a
 * reader inside the container sees the old set of files or the new one, never a mix, and must
 * re-open the file to see the new content.
 */
export class AtomicVolume {
  readonly directory: string
  #generation = 0
  #current: string | undefined

  private constructor(directory: string) {
    this.directory = directory
  }

  /** Creates the volume in `directory` (mode 0755, as kubelet's tmpfs) holding `files`. */
  static async create(
    directory: string,
    files: Readonly<Record<string, string | Uint8Array>>,
    ownership: FileOwnership,
  ): Promise<AtomicVolume> {
    await mkdir(directory, { recursive: true, mode: 0o755 })
    const volume = new AtomicVolume(directory)
    await volume.update(files, ownership)
    return volume
  }

  /** Replaces every file at once (the `..data` swap). */
  async update(
    files: Readonly<Record<string, string | Uint8Array>>,
    ownership: FileOwnership,
  ): Promise<void> {
    this.#generation++
    const stamp = new Date().toISOString().replace(/[-:T.Z]/g, '_')
    const version = `..${stamp}${this.#generation}`
    const versionDirectory = join(this.directory, version)
    await mkdir(versionDirectory, { mode: 0o755 })
    for (const [name, content] of Object.entries(files)) {
      const path = join(versionDirectory, name)
      await writeFile(path, content, { mode: ownership.mode })
      await chown(path, ownership.uid, ownership.gid)
    }
    await symlink(version, join(this.directory, '..data_tmp'))
    await rename(join(this.directory, '..data_tmp'), join(this.directory, '..data'))
    const present = new Set(await readdir(this.directory))
    for (const name of Object.keys(files)) {
      if (!present.has(name)) await symlink(join('..data', name), join(this.directory, name))
    }
    if (this.#current !== undefined) await rm(join(this.directory, this.#current), { recursive: true })
    this.#current = version
  }
}
