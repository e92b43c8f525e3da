import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The file that marks a directory as a demo's own, so a later run may replace what is in it. */
export const WORK_DIR_MARKER = '.k8s-attest-demo'

/** What {@link prepareWorkDir} did, or why it would not. */
export type WorkDirOutcome =
  | { readonly kind: 'created' }
  /** A previous demo's directory: its files were removed, so this run starts clean. */
  | { readonly kind: 'reused' }
  /** One line saying why the directory cannot be used; nothing was changed. */
  | { readonly kind: 'refused'; readonly reason: string }

/**
 * Makes `dir` ready for a demo: created if missing, taken as is if empty, cleared if a previous
 * demo made it (it holds {@link WORK_DIR_MARKER}), and refused otherwise — the demo never
 * deletes files it did not write.
 */
export async function prepareWorkDir(dir: string): Promise<WorkDirOutcome> {
  const existing = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw error
  })
  if (existing !== undefined && !existing.isDirectory()) {
    return { kind: 'refused', reason: `--dir ${dir} is a file, not a directory` }
  }
  const entries = existing === undefined ? [] : await readdir(dir)
  let outcome: WorkDirOutcome = { kind: 'created' }
  if (entries.includes(WORK_DIR_MARKER)) {
    await Promise.all(
      entries
        .filter((entry) => entry !== WORK_DIR_MARKER)
        .map((entry) => rm(join(dir, entry), { recursive: true, force: true })),
    )
    outcome = { kind: 'reused' }
  } else if (entries.length > 0) {
    return {
      kind: 'refused',
      reason: `--dir ${dir} already holds files the demo did not write; give a new or empty directory`,
    }
  }
  await mkdir(dir, { recursive: true })
  await writeFile(
    join(dir, WORK_DIR_MARKER),
    'k8s-attest demo files: a later demo run with --dir here replaces them\n',
  )
  return outcome
}
