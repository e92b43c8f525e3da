import { randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { CaStoreError } from './ca-errors.ts'

/** `<id>-key.pem` and `<id>-cert.pem`, the id as {@link CaStore.newId} makes it. */
const CA_FILE_NAME = /^(\d{8}T\d{6}Z-[0-9a-f]{8})-(key|cert)\.pem$/

/**
 * The CA files under `<data_dir>/ca/` (directory mode 0700):
 *
 * - `<id>-key.pem`: a CA private key, PKCS#8, mode 0600;
 * - `<id>-cert.pem`: its self-signed certificate;
 * - `bundle.pem`: every CA certificate still trusted, for operators to hand to agents
 *   (rewritten on every change, never read back by the server).
 *
 * `<id>` is the creation time and a random suffix (`20261124T034512Z-9f2c41d0`), so listings
 * sort by age. A key without its certificate is a creation that was interrupted; a certificate
 * without its key is a superseded CA kept for the bundle until it expires.
 *
 * Files are published atomically and without overwriting: written to a temporary name,
 * flushed, then hard-linked to the final name (which fails if the name exists, unlike rename),
 * and the directory is flushed. A crash leaves either the whole file or nothing, and two
 * processes racing on the same `data_dir` can never replace each other's key.
 */
export class CaStore {
  /** The `ca` directory. */
  readonly directory: string
  /** The CA file names as this process knows them: its last {@link readAll}, and its own writes and deletions since. */
  readonly #known = new Set<string>()

  constructor(dataDir: string) {
    this.directory = join(dataDir, 'ca')
  }

  /**
   * Creates the directory if needed and restricts it to the owner.
   *
   * @throws {CaStoreError} when it cannot (permissions, a file in the way).
   */
  async prepare(): Promise<void> {
    try {
      await mkdir(this.directory, { recursive: true, mode: 0o700 })
      await chmod(this.directory, 0o700)
    } catch (error) {
      throw new CaStoreError(this.directory, `cannot create the CA directory: ${errorMessage(error)}`, {
        cause: error,
      })
    }
  }

  /** A new, unique CA id for `now`. */
  newId(now: Date): string {
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
    return `${stamp}-${randomBytes(4).toString('hex')}`
  }

  keyPath(id: string): string {
    return join(this.directory, keyFileName(id))
  }

  certificatePath(id: string): string {
    return join(this.directory, certificateFileName(id))
  }

  /**
   * Whether the directory's CA files are other than this process knows (see {@link readAll}):
   * another process sharing `data_dir`, or an operator, added or removed one. One directory
   * listing, no file read.
   *
   * @throws {CaStoreError} when the directory cannot be read.
   */
  async changedSinceRead(): Promise<boolean> {
    const names = await this.#caFileNames()
    return names.length !== this.#known.size || names.some((name) => !this.#known.has(name))
  }

  async #caFileNames(): Promise<string[]> {
    const names = await readOrFail(this.directory, () => readdir(this.directory))
    return names.filter((name) => CA_FILE_NAME.test(name)).sort()
  }

  /**
   * Every CA found, by id, with whichever of its two files exist. Other files are ignored.
   *
   * @throws {CaStoreError} when the directory or a CA file cannot be read.
   */
  async readAll(): Promise<Map<string, StoredCaFiles>> {
    const found = new Map<string, { keyPem?: string; certificatePem?: string }>()
    const names = await this.#caFileNames()
    for (const name of names) {
      const match = CA_FILE_NAME.exec(name)
      if (match?.[1] === undefined) continue
      const entry = found.get(match[1]) ?? {}
      const path = join(this.directory, name)
      const text = await readOrFail(path, () => readFile(path, 'utf8'))
      if (match[2] === 'key') entry.keyPem = text
      else entry.certificatePem = text
      found.set(match[1], entry)
    }
    this.#known.clear()
    for (const name of names) this.#known.add(name)
    return found
  }

  /**
   * Publishes a private key (mode 0600).
   *
   * @returns `false` if a key with this id already exists (it is left untouched).
   */
  async publishKey(id: string, pem: string): Promise<boolean> {
    return this.#publish(keyFileName(id), pem, 0o600)
  }

  /**
   * Publishes a certificate (mode 0644).
   *
   * @returns `false` if another process published this id's certificate first.
   */
  async publishCertificate(id: string, pem: string): Promise<boolean> {
    return this.#publish(certificateFileName(id), pem, 0o644)
  }

  /** Replaces `bundle.pem` atomically (write to a temporary name, then rename over). */
  async writeBundle(pem: string): Promise<void> {
    const path = join(this.directory, 'bundle.pem')
    const temporary = await this.#writeTemporary(path, pem, 0o644)
    await rename(temporary, path)
    await this.#syncDirectory()
  }

  /** Deletes the private key of a superseded CA. */
  async deleteKey(id: string): Promise<void> {
    await unlinkIfPresent(this.keyPath(id))
    this.#known.delete(keyFileName(id))
  }

  /** Deletes an expired CA: its key, if still there, and its certificate. */
  async deleteCa(id: string): Promise<void> {
    await unlinkIfPresent(this.keyPath(id))
    this.#known.delete(keyFileName(id))
    await unlinkIfPresent(this.certificatePath(id))
    this.#known.delete(certificateFileName(id))
  }

  async #publish(name: string, content: string, mode: number): Promise<boolean> {
    const path = join(this.directory, name)
    const temporary = await this.#writeTemporary(path, content, mode)
    try {
      await link(temporary, path)
    } catch (error) {
      // Another process's file, which this one has not read: changedSinceRead() says so.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
      throw error
    } finally {
      await unlink(temporary)
    }
    this.#known.add(name)
    await this.#syncDirectory()
    return true
  }

  /** Writes `content` to a fresh temporary file next to `path`, flushed to disk. */
  async #writeTemporary(path: string, content: string, mode: number): Promise<string> {
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
    // 'wx': never follow or reuse an existing file; the mode applies from creation on, so the
    // key is never readable by others, not even briefly.
    const handle = await open(temporary, 'wx', mode)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    return temporary
  }

  /** Makes the new directory entries durable (a link or rename is only durable once the directory is). */
  async #syncDirectory(): Promise<void> {
    const handle = await open(this.directory, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  }
}

/** The files of one CA id as read from disk. */
export interface StoredCaFiles {
  readonly keyPem?: string
  readonly certificatePem?: string
}

function keyFileName(id: string): string {
  return `${id}-key.pem`
}

function certificateFileName(id: string): string {
  return `${id}-cert.pem`
}

async function unlinkIfPresent(path: string): Promise<void> {
  try {
    await unlink(path)
  } catch (error) {
    // Another server process sharing data_dir deleted it first: the outcome wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}

async function readOrFail<T>(path: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    throw new CaStoreError(path, `cannot be read: ${errorMessage(error)}`, { cause: error })
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
