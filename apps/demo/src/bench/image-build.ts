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

const deployed = new Map<ImageApp, Promise<AppCode>>()

/**
 * `app`'s image code, bundled on first use in this process (a second or two) into a temporary
 * directory removed when the process exits.
 */
export function imageCode(app: ImageApp): Promise<AppCode> {
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
