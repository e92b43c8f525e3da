import { mkdir, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * A projected service account token volume, laid out and updated the way kubelet's atomic
 * writer does it: the token lives in a timestamped directory, `..data` is a symlink to the
 * current one, and the token path is a symlink through `..data`. A rotation writes a new
 * directory, swaps `..data` with one `rename` (atomic), then deletes the old directory — so a
 * reader sees the old token or the new one, never half of one, and a reader that kept the old
 * file open would be left holding a deleted file.
 */
export interface TokenVolume {
  /** The directory mounted into the agent's pod. */
  readonly dir: string
  /** The path the agent is configured with (`token_path`). */
  readonly tokenPath: string
  /** How many tokens have been written. */
  readonly generation: number
  /** Replaces the token atomically, as kubelet does when it refreshes it. */
  write(token: string): Promise<void>
}

/**
 * Creates a token volume in `dir` holding `token` as `fileName` (kubelet's `path` of the
 * projected source, `spire-agent` in SPIRE's manifests).
 */
export async function createTokenVolume(
  dir: string,
  token: string,
  fileName = 'spire-agent',
): Promise<TokenVolume> {
  await mkdir(dir, { recursive: true, mode: 0o755 })
  let generation = 0
  let current: string | undefined
  const write = async (next: string) => {
    generation++
    // kubelet names them after the time of writing; the generation keeps two writes in one
    // millisecond apart.
    const stamp = new Date()
      .toISOString()
      .replace(/[-:T.]/g, '_')
      .replace('Z', '')
    const versionDir = `..${stamp}_${generation}`
    await mkdir(join(dir, versionDir), { mode: 0o755 })
    await writeFile(join(dir, versionDir, fileName), next, { mode: 0o600 })
    await symlink(versionDir, join(dir, '..data_tmp'))
    await rename(join(dir, '..data_tmp'), join(dir, '..data'))
    if (current !== undefined) await rm(join(dir, current), { recursive: true })
    current = versionDir
  }
  await write(token)
  const tokenPath = join(dir, fileName)
  await symlink(join('..data', fileName), tokenPath)
  return {
    dir,
    tokenPath,
    get generation() {
      return generation
    },
    write,
  }
}
