import { type ParseArgsOptionsConfig, parseArgs } from 'node:util'

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

/**
 * Which of the server's code the bench runs: the image's bundle (the default, what the figures
 * are held to), the workspace build (`dist/` over node_modules, so a profile names each
 * library's files) or the TypeScript sources.
 */
export type BenchServerCode = 'image' | 'built' | 'source'

/** How the figures' header names each {@link BenchServerCode}. */
export const SERVER_CODE_NAMES: Readonly<Record<BenchServerCode, string>> = {
  image: "the image's bundle",
  built: 'the workspace build (dist/, not bundled)',
  source: 'the TypeScript sources',
}

/** `--server-code`'s line of a usage text. */
export const SERVER_CODE_USAGE = `  --server-code C     image (the default: the image's bundle), built (dist/ over node_modules,
                      so a profile names each library's files) or source`

/** `--server-code C`, checked. */
export function serverCodeFlag(value: string): BenchServerCode {
  if (value === 'image' || value === 'built' || value === 'source') return value
  throw new TypeError(`--server-code must be image, built or source, not "${value}"`)
}

/** `--server-v8-flags="F …"` as a list: words split at spaces, so `""` is V8's defaults. */
export function v8FlagsFlag(value: string): readonly string[] {
  return value.split(' ').filter((flag) => flag !== '')
}
