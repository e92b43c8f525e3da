import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { bundleApp } from './app-bundle.ts'

// What the images run, bundled from the workspace's build (`pnpm build` first, as CI does).
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

let work: string
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'app-bundle-test-'))
})
afterAll(async () => {
  await rm(work, { recursive: true, force: true })
})

/** Runs the bundle's entry with `args`; its exit status and output. */
function runBundle(outputDir: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [join(outputDir, 'dist', 'main.js'), ...args], {
    encoding: 'utf8',
    cwd: work,
  })
  return { status: run.status, output: `${run.stdout}${run.stderr}` }
}

describe('bundleApp', () => {
  it('bundles the agent into files that run without any node_modules, with every bundled license', async () => {
    const out = join(work, 'agent')
    const bundle = await bundleApp(REPO_ROOT, '@k8s-attest/agent', out)
    expect(bundle.chunks[0]).toBe('main.js')
    expect(bundle.kept).toEqual([])
    expect(existsSync(join(out, 'node_modules'))).toBe(false)
    expect(JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'))).toMatchObject({
      name: '@k8s-attest/agent',
      type: 'module',
    })
    const help = runBundle(out, '--help')
    expect(help.output).toMatch(/Usage: k8s-attest-agent/)
    expect(help.status).toBe(0)

    const undici = JSON.parse(
      execFileSync(process.execPath, ['-p', 'JSON.stringify(require("undici/package.json"))'], {
        cwd: join(REPO_ROOT, 'apps', 'agent'),
        encoding: 'utf8',
      }),
    ) as { version: string }
    expect(bundle.packages).toContain(`undici@${undici.version}`)
    expect(bundle.packages.some((id) => id.startsWith('@k8s-attest/'))).toBe(false)
    const licenses = readFileSync(join(out, 'THIRD_PARTY_LICENSES.md'), 'utf8')
    const undiciSection = licenses
      .split('\n## ')
      .find((section) => section.startsWith(`undici@${undici.version}`))
    expect(undiciSection).toMatch(/License: MIT/)
    expect(undiciSection).toMatch(/Permission is hereby granted/)
  })

  it("bundles the server, keeping the dashboard's files beside it where the dashboard looks for them", async () => {
    const out = join(work, 'server')
    const bundle = await bundleApp(REPO_ROOT, '@k8s-attest/server', out)
    expect(bundle.kept).toEqual(['@k8s-attest/dashboard'])
    expect(bundle.packages).toContainEqual(expect.stringMatching(/^@kubernetes\/client-node@/))
    // The dashboard's own build bundled Preact into its scripts: its license is listed as well.
    expect(bundle.packages).toContainEqual(expect.stringMatching(/^preact@/))
    const dashboard = (await import(
      pathToFileURL(join(out, 'node_modules', '@k8s-attest', 'dashboard', 'dist', 'index.js')).href
    )) as { DASHBOARD_ASSETS_DIR: string }
    expect(dashboard.DASHBOARD_ASSETS_DIR.startsWith(out)).toBe(true)
    expect(existsSync(join(dashboard.DASHBOARD_ASSETS_DIR, 'index.html'))).toBe(true)

    const help = runBundle(out, '--help')
    expect(help.output).toMatch(/Usage: k8s-attest-server/)
    expect(help.status).toBe(0)
    // A command loaded on demand (its own chunk) answers too: a usage error, exit 2.
    const x509 = runBundle(out, 'x509')
    expect(x509.output).toMatch(/unknown x509 command ""; expected one of mint/)
  })

  it('refuses an app that is not in the workspace, and an output directory already holding files', async () => {
    await expect(bundleApp(REPO_ROOT, '@k8s-attest/nope', join(work, 'nope'))).rejects.toThrow(
      /no app under .*apps is named @k8s-attest\/nope/,
    )
    const full = join(work, 'full')
    mkdirSync(full)
    writeFileSync(join(full, 'kept.txt'), 'not ours to overwrite')
    await expect(bundleApp(REPO_ROOT, '@k8s-attest/agent', full)).rejects.toThrow(
      `the bundle's output directory ${full} is not empty`,
    )
    expect(readFileSync(join(full, 'kept.txt'), 'utf8')).toBe('not ours to overwrite')
  })

  it('refuses an app that is not built, and ships nothing the bundler warned about', async () => {
    const workspace = join(work, 'workspace')
    const app = join(workspace, 'apps', 'fixture')
    mkdirSync(app, { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: '@fixture/app', type: 'module' }))
    await expect(bundleApp(workspace, '@fixture/app', join(work, 'unbuilt'))).rejects.toThrow(
      /@fixture\/app is not built: no .*dist.main\.js; run `pnpm build`/,
    )
    mkdirSync(join(app, 'dist'))
    writeFileSync(join(app, 'dist', 'main.js'), "import { missing } from 'no-such-package'\nmissing()\n")
    await expect(bundleApp(workspace, '@fixture/app', join(work, 'warned'))).rejects.toThrow(
      /bundling @fixture\/app warned[\s\S]*no-such-package/,
    )
  })
})
