import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'
import { type BenchCode, CODE_NAMES } from './image-build.ts'
import { imageEnvironment, SERVER_IMAGE_NODE_FLAGS } from './image-node-flags.ts'

/**
 * The flags of a bench script's command line, or `undefined` for `--help` (every script takes
 * it). Strict: an unknown flag or a stray argument is refused.
 *
 * @throws {TypeError} naming the argument parseArgs refused.
 */
export function parseBenchFlags(
  args: readonly string[],
  options: ParseArgsOptionsConfig,
): Record<string, string | boolean | undefined> | undefined {
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: { ...options, help: { type: 'boolean', default: false } },
    }))
  } catch (error) {
    // parseArgs' own TypeError (ERR_PARSE_ARGS_*) already names the argument.
    throw new TypeError((error as Error).message, { cause: error })
  }
  if (values.help === true) return undefined
  return values as Record<string, string | boolean | undefined>
}

/**
 * `value` of `flag` as an integer of at least `minimum`.
 *
 * @throws {TypeError} naming the flag, the bound and what was given.
 */
export function integerFlag(value: unknown, flag: string, minimum: number): number {
  const text = String(value)
  const number = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(number) || number < minimum) {
    throw new TypeError(`${flag} must be an integer ≥ ${minimum}, got "${text}"`)
  }
  return number
}

/**
 * What a bench script's entry does with its command line: the options `parse` reads, or the
 * usage on standard output and exit 0 for `--help`, or the error and the usage on standard error
 * and exit 2.
 */
export function benchOptionsOrExit<T>(
  command: string,
  usage: string,
  parse: (args: readonly string[]) => T | undefined,
): T {
  let options: T | undefined
  try {
    options = parse(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`${command}: ${(error as Error).message}\n\n${usage}`)
    process.exit(2)
  }
  if (options === undefined) {
    process.stdout.write(usage)
    process.exit(0)
  }
  return options
}

/** `--server-v8-flags="F …"` as a list: words split at spaces, so `""` is V8's defaults. */
export function v8FlagsFlag(value: string): readonly string[] {
  return value.split(' ').filter((flag) => flag !== '')
}

/** How the server processes a bench starts are run: `--server-v8-flags`, `--server-code`. */
export interface ServerProcessOptions {
  /** V8 options of every server started; absent: the image's (`SERVER_IMAGE_NODE_FLAGS`). */
  readonly serverV8Flags?: readonly string[]
  /** Which of the server's code every server started runs. */
  readonly serverCode: BenchCode
}

/** {@link ServerProcessOptions}' flags, for {@link parseBenchFlags}. */
export const SERVER_PROCESS_FLAGS = {
  'server-v8-flags': { type: 'string' },
  'server-code': { type: 'string', default: 'image' },
} as const satisfies ParseArgsOptionsConfig

/** {@link ServerProcessOptions}' lines of a usage text. */
export const SERVER_PROCESS_USAGE = `  --server-v8-flags="F …"
                      V8 options of every server started, instead of the image's
                      (${SERVER_IMAGE_NODE_FLAGS.join(' ')}); "" for V8's defaults;
                      written with "=", as options that begin with a dash must be
  --server-code C     image (the default: the image's bundle), built (dist/ over node_modules,
                      so a profile names each library's files) or source`

/**
 * {@link ServerProcessOptions} from the values {@link parseBenchFlags} read with
 * {@link SERVER_PROCESS_FLAGS}.
 *
 * @throws {TypeError} for a `--server-code` that is not one of the three.
 */
export function serverProcessOptions(
  values: Record<string, string | boolean | undefined>,
): ServerProcessOptions {
  const v8Flags = values['server-v8-flags'] as string | undefined
  const code = values['server-code'] as string
  if (code !== 'image' && code !== 'built' && code !== 'source') {
    throw new TypeError(`--server-code must be image, built or source, not "${code}"`)
  }
  return { ...(v8Flags === undefined ? {} : { serverV8Flags: v8FlagsFlag(v8Flags) }), serverCode: code }
}

/** The figures' header line naming how the servers run. */
export function serverProcessHeader(options: ServerProcessOptions): string {
  const v8 = (options.serverV8Flags ?? SERVER_IMAGE_NODE_FLAGS).join(' ') || "V8's defaults"
  const environment = Object.entries(imageEnvironment())
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')
  return `server code: ${CODE_NAMES[options.serverCode]}, V8 options: ${v8}, environment: ${environment}`
}
