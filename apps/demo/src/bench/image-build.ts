import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { AppCode } from '../child-process.ts'

/*
 * The server and agent as their images run them, for the figures held to the images: the
 * bundle `deploy/images/app-deploy.ts --built` makes of the workspace's build (`pnpm build`).
 */

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const APP_DEPLOY = join(REPO_ROOT, 'deploy', 'images', 'app-deploy.ts')

/** The apps that have an image. */
export type ImageApp = '@k8s-attest/server' | '@k8s-attest/agent'

/**
 * Which of an app's code a bench runs: the image's bundle (what the figures are held to), the
 * workspace build (`dist/` over node_modules, so a profile names each library's files) or the
 * TypeScript sources.
 */
export type BenchCode = 'image' | 'built' | 'source'

/** How the figures name each {@link BenchCode}. */
export const CODE_NAMES: Readonly<Record<BenchCode, string>> = {
  image: "the image's bundle",
  built: 'the workspace build (dist/, not bundled)',
  source: 'the TypeScript sources',
}

/** The code the demo's process starters run for `code` of `app`: `'image'` is bundled on first use. */
export function codeToRun(app: ImageApp, code: BenchCode): Promise<AppCode> {
  return code === 'image' ? imageCode(app) : Promise.resolve(code)
}

const deployed = new Map<ImageApp, Promise<AppCode>>()

/**
 * `app`'s image code, bundled on first use in this process (a second or two) into a temporary
 * directory removed when the process exits.
 */
function imageCode(app: ImageApp): Promise<AppCode> {
  let code = deployed.get(app)
  if (code === undefined) {
    code = deploy(app)
    deployed.set(app, code)
  }
  return code
}

async function deploy(app: ImageApp): Promise<AppCode> {
  const parent = mkdtempSync(join(tmpdir(), 'k8s-attest-image-code-'))
  process.once('exit', () => rmSync(parent, { recursive: true, force: true }))
  const dir = join(parent, app.replace('@k8s-attest/', ''))
  try {
    await promisify(execFile)(process.execPath, [APP_DEPLOY, '--built', app, dir], { cwd: REPO_ROOT })
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? ''
    throw new Error(`cannot bundle ${app} as its image does (${APP_DEPLOY} --built): ${stderr.trim()}`, {
      cause: error,
    })
  }
  return { deployed: dir }
}
