/**
 * Bundles one built app (`apps/<app>/dist/main.js` and everything it imports) into the few
 * files its image runs, with rolldown, the bundler Vite 8 builds the dashboard with.
 *
 * Why the images run a bundle rather than `dist/` over a production `node_modules`: Node keeps a
 * module record, its source and its scope for every file it loads, and @kubernetes/client-node's
 * one entry alone loads about 1,800 of them (every generated API and model). Bundled and
 * tree-shaken, the server's live heap falls from about 51 to 28 MiB and its RSS after 10,000
 * attestations by about 23 MiB; the idle agent's RSS from 89–90 to about 80 MiB
 * (docs/performance.md, "What changed"). Names are kept (`keepNames`), so stack traces and error
 * classes read as in the sources.
 *
 * The output directory holds `dist/main.js` and its chunks, a `package.json` (ES modules), the
 * packages kept as files ({@link KEPT_AS_FILES}) under `node_modules/`, and
 * `THIRD_PARTY_LICENSES.md` with the license of every package the bundle includes.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, sep } from 'node:path'
import { build, type RolldownLog } from 'rolldown'

/**
 * Workspace packages that find their own files beside their code (`import.meta.url`), so they
 * are copied whole rather than bundled: the dashboard's built browser files.
 */
const KEPT_AS_FILES = ['@k8s-attest/dashboard'] as const

/** Files in a kept package that no running process reads. */
const UNREAD_SUFFIXES = ['.map', '.d.ts', '.d.mts', '.d.cts', '.tsbuildinfo']

/** What {@link bundleApp} wrote. */
export interface AppBundle {
  readonly outputDir: string
  /** The JavaScript files of `dist/`, the entry first. */
  readonly chunks: readonly string[]
  /** Bytes of JavaScript in `dist/`. */
  readonly bytes: number
  /** The third-party packages (name@version) whose code the bundle includes. */
  readonly packages: readonly string[]
  /** The packages copied whole into `node_modules/`. */
  readonly kept: readonly string[]
}

interface PackageManifest {
  readonly name?: string
  readonly version?: string
  readonly license?: string
  readonly engines?: Record<string, string>
  readonly dependencies?: Record<string, string>
}

/**
 * Bundles the workspace app named `packageName` (built: `pnpm build`) into `outputDir`, which
 * must not exist or be empty. `workspaceRoot` is the repository's root.
 */
export async function bundleApp(
  workspaceRoot: string,
  packageName: string,
  outputDir: string,
): Promise<AppBundle> {
  const appDir = findApp(workspaceRoot, packageName)
  const entry = join(appDir, 'dist', 'main.js')
  if (!existsSync(entry)) throw new Error(`${packageName} is not built: no ${entry}; run \`pnpm build\``)
  if (existsSync(outputDir) && readdirSync(outputDir).length > 0) {
    throw new Error(`the bundle's output directory ${outputDir} is not empty`)
  }
  const warnings: RolldownLog[] = []
  const output = await build({
    input: entry,
    cwd: appDir,
    platform: 'node',
    external: [...KEPT_AS_FILES],
    // A warning (an import that does not resolve, a circular re-export that changes order) would
    // be a behaviour the sources do not have: the build fails on it rather than ship it.
    onLog: (level, log) => {
      if (level === 'warn') warnings.push(log)
    },
    output: {
      dir: join(outputDir, 'dist'),
      format: 'esm',
      entryFileNames: 'main.js',
      chunkFileNames: '[name]-[hash].js',
      keepNames: true,
    },
  })
  if (warnings.length > 0) {
    throw new Error(
      `bundling ${packageName} warned; nothing is shipped until each is understood:\n${warnings
        .map((log) => `  [${log.code ?? 'warning'}] ${log.message}`)
        .join('\n')}`,
    )
  }
  const chunks = output.output.flatMap((file) => (file.type === 'chunk' ? [file] : []))
  const imported = new Set(chunks.flatMap((chunk) => [...chunk.imports, ...chunk.dynamicImports]))
  const kept = KEPT_AS_FILES.filter((name) => imported.has(name))
  const packageRoots = new Set<string>()
  for (const name of kept) {
    const source = copyKeptPackage(appDir, name, join(outputDir, 'node_modules', name))
    // Its own build bundled its dependencies (the dashboard's Preact, by Vite): their licenses too.
    for (const dependency of Object.keys(readManifest(join(source, 'package.json')).dependencies ?? {})) {
      packageRoots.add(realpathSync(join(source, 'node_modules', dependency)))
    }
  }
  for (const chunk of chunks) {
    for (const id of chunk.moduleIds) {
      const root = packageRootOf(id)
      if (root !== undefined) packageRoots.add(root)
    }
  }
  const packages = writeLicenses(join(outputDir, 'THIRD_PARTY_LICENSES.md'), packageName, packageRoots)
  writeManifest(join(outputDir, 'package.json'), readManifest(join(appDir, 'package.json')))
  return {
    outputDir,
    chunks: chunks.map((chunk) => chunk.fileName),
    bytes: chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk.code), 0),
    packages,
    kept,
  }
}

/** The directory under `apps/` whose package.json names `packageName`. */
function findApp(workspaceRoot: string, packageName: string): string {
  const apps = join(workspaceRoot, 'apps')
  for (const name of readdirSync(apps)) {
    const manifestPath = join(apps, name, 'package.json')
    if (existsSync(manifestPath) && readManifest(manifestPath).name === packageName) return join(apps, name)
  }
  throw new Error(`no app under ${apps} is named ${packageName}`)
}

function readManifest(path: string): PackageManifest {
  return JSON.parse(readFileSync(path, 'utf8')) as PackageManifest
}

/** The image's package.json: the app's name and version, and that `.js` files are ES modules. */
function writeManifest(path: string, app: PackageManifest): void {
  const manifest = {
    name: app.name,
    version: app.version,
    private: true,
    license: app.license,
    type: 'module',
    ...(app.engines === undefined ? {} : { engines: app.engines }),
  }
  writeFileSync(path, `${JSON.stringify(manifest, null, 2)}\n`)
}

/**
 * Copies the package `name`, as `appDir` resolves it, without the files nothing reads; returns
 * the directory it was copied from.
 */
function copyKeptPackage(appDir: string, name: string, destination: string): string {
  const source = realpathSync(join(appDir, 'node_modules', name))
  mkdirSync(destination, { recursive: true })
  cpSync(join(source, 'package.json'), join(destination, 'package.json'))
  const dist = join(source, 'dist')
  if (!existsSync(dist)) throw new Error(`${name} is not built: no ${dist}; run \`pnpm build\``)
  cpSync(dist, join(destination, 'dist'), {
    recursive: true,
    filter: (path) => !UNREAD_SUFFIXES.some((suffix) => path.endsWith(suffix)),
  })
  return source
}

/**
 * The root of the installed package a bundled module belongs to (the directory below the last
 * `node_modules` holding its package.json), or undefined for the workspace's own code.
 */
function packageRootOf(moduleId: string): string | undefined {
  const marker = `${sep}node_modules${sep}`
  const at = moduleId.lastIndexOf(marker)
  if (at < 0 || moduleId.startsWith('\0')) return undefined
  const parts = moduleId.slice(at + marker.length).split(sep)
  const depth = parts[0]?.startsWith('@') === true ? 2 : 1
  const root = join(moduleId.slice(0, at + marker.length), ...parts.slice(0, depth))
  return existsSync(join(root, 'package.json')) ? root : undefined
}

/**
 * Writes every bundled package's license, its text as the package ships it, and returns the
 * packages as name@version, sorted. A package that ships no license file is listed with its
 * package.json's `license` field.
 */
function writeLicenses(path: string, appName: string, roots: ReadonlySet<string>): string[] {
  const entries = [...roots]
    .map((root) => ({ root, manifest: readManifest(join(root, 'package.json')) }))
    .filter(({ manifest }) => manifest.name !== undefined && !manifest.name.startsWith('@k8s-attest/'))
    .map(({ root, manifest }) => ({ root, manifest, id: `${manifest.name}@${manifest.version ?? '?'}` }))
    .sort((a, b) => a.id.localeCompare(b.id))
  const unique = entries.filter((entry, index) => index === 0 || entries[index - 1]?.id !== entry.id)
  const sections = unique.map(({ root, manifest, id }) => {
    const files = readdirSync(root).filter(
      (name) => /^(licen[sc]e|notice|copying)/i.test(name) && statSync(join(root, name)).isFile(),
    )
    const texts = files.map((name) => `\`\`\`\n${readFileSync(join(root, name), 'utf8').trim()}\n\`\`\``)
    const body = texts.length > 0 ? texts.join('\n\n') : '(the package ships no license file)'
    return `## ${id}\n\nLicense: ${manifest.license ?? 'not stated'}\n\n${body}\n`
  })
  writeFileSync(
    path,
    `# Third-party licenses\n\n${appName}'s image runs these packages, bundled into \`dist/\` or into a package kept under \`node_modules/\`.\n\n${sections.join('\n')}`,
  )
  return unique.map(({ id }) => id)
}
