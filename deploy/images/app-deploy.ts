/**
 * Produces one app's deployable directory: the app built and bundled with what it imports
 * (deploy/images/app-bundle.ts: `dist/main.js` and its chunks, the dashboard's files for the
 * server, a package.json, the bundled packages' licenses). No `node_modules` of libraries: the
 * image runs the bundle.
 *
 *   node deploy/images/app-deploy.ts [--built] <package name> <output directory>
 *
 * It installs the workspace (frozen lockfile) and builds it first; with `--built` it bundles the
 * workspace as it is, already built (`pnpm bench` runs the server and agent this way, as their
 * images run them).
 *
 * The Dockerfiles run it in their `deploy` stage. Where the build cannot reach the npm registry
 * (an image built on a machine that only has the registry outside Docker),
 * `deploy/images/build.sh --deploy-on-host` runs it on the host first and the stage is given the
 * result in `DEPLOY_OUTPUT` (a directory of the build context), which it copies unchanged.
 * Plain Node, so that with DEPLOY_OUTPUT the stage's image needs no shell; without it, the
 * install and build need npm and a shell (`sh`, which pnpm runs the workspace's scripts with).
 */
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'

const USAGE = 'usage: app-deploy.ts [--built] <package name> <output directory>'

async function main(argv: readonly string[]): Promise<void> {
  const built = argv[0] === '--built'
  const [packageName, output, ...rest] = built ? argv.slice(1) : argv
  if (packageName === undefined || output === undefined || rest.length > 0 || packageName.startsWith('-')) {
    throw new TypeError(USAGE)
  }
  const out = resolve(output)
  const prebuilt = process.env.DEPLOY_OUTPUT ?? ''
  rmSync(out, { recursive: true, force: true })
  if (prebuilt !== '') {
    if (!existsSync(join(prebuilt, 'package.json'))) {
      throw new Error(
        `DEPLOY_OUTPUT "${prebuilt}" holds no package.json: run deploy/images/build.sh --deploy-on-host`,
      )
    }
    cpSync(prebuilt, out, { recursive: true })
    console.log(`app-deploy: ${packageName} copied from ${prebuilt}`)
    return
  }
  if (!built) {
    // Imported here: with DEPLOY_OUTPUT (above) the stage's context holds this file alone.
    const { pnpmEnvironment } = await import('./pnpm-environment.ts')
    const env = pnpmEnvironment(process.cwd())
    const run = (...args: string[]): void => {
      execFileSync('pnpm', args, { stdio: 'inherit', env })
    }
    run('install', '--frozen-lockfile', '--prefer-offline')
    run('build')
  }
  // Imported once installed: the bundler is one of the workspace's dev dependencies.
  const { bundleApp } = await import('./app-bundle.ts')
  const bundle = await bundleApp(process.cwd(), packageName, out)
  console.log(
    `app-deploy: ${packageName} bundled to ${out}: ${bundle.chunks.length} files, ${(bundle.bytes / 1e6).toFixed(1)} MB, ` +
      `${bundle.packages.length} packages${bundle.kept.length > 0 ? `, ${bundle.kept.join(', ')} kept as files` : ''}`,
  )
}

await main(process.argv.slice(2))
