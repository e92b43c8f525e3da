/**
 * Command-line flags in Go's `flag` style, as `spire-server` takes them: one dash, camelCase
 * names, `-name value` or `-name=value`; a boolean flag alone means true (`-expandEnv`). Two
 * dashes are accepted too. Parsing stops at the first argument that is not a flag.
 */

/** A flag a command accepts. */
export interface FlagSpec {
  readonly name: string
  readonly kind: 'string' | 'boolean'
  /** One line for the usage text, including the default. */
  readonly description: string
}

/** Parsed flags: string values by name, booleans as `true`/`false`; the rest of the arguments. */
export interface ParsedFlags {
  readonly values: ReadonlyMap<string, string | boolean>
  readonly rest: readonly string[]
}

/** Bad command-line use; the CLI prints the message and the usage, and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
  readonly code = 'ATT_ERR_CLI_USAGE'
}

/**
 * @throws {UsageError} for an unknown flag, a missing value, or a boolean given a non-boolean.
 */
export function parseFlags(args: readonly string[], specs: readonly FlagSpec[]): ParsedFlags {
  const byName = new Map(specs.map((spec) => [spec.name, spec]))
  const values = new Map<string, string | boolean>()
  let index = 0
  while (index < args.length) {
    const arg = args[index] ?? ''
    if (arg === '--') {
      index++
      break
    }
    if (!arg.startsWith('-') || arg === '-') break
    const body = arg.replace(/^--?/, '')
    const equals = body.indexOf('=')
    const name = equals === -1 ? body : body.slice(0, equals)
    const spec = byName.get(name)
    if (spec === undefined) {
      throw new UsageError(
        `flag provided but not defined: -${name} (expected one of ${specs.map((s) => `-${s.name}`).join(', ')})`,
      )
    }
    if (spec.kind === 'boolean') {
      const text = equals === -1 ? 'true' : body.slice(equals + 1)
      if (text !== 'true' && text !== 'false')
        throw new UsageError(`invalid boolean value "${text}" for -${name}`)
      values.set(name, text === 'true')
      index++
      continue
    }
    if (equals !== -1) {
      values.set(name, body.slice(equals + 1))
      index++
      continue
    }
    const value = args[index + 1]
    if (value === undefined) throw new UsageError(`flag needs an argument: -${name}`)
    values.set(name, value)
    index += 2
  }
  return { values, rest: args.slice(index) }
}

/** A string flag's value, or `fallback`. */
export function stringFlag(flags: ParsedFlags, name: string, fallback: string): string
export function stringFlag(flags: ParsedFlags, name: string): string | undefined
export function stringFlag(flags: ParsedFlags, name: string, fallback?: string): string | undefined {
  const value = flags.values.get(name)
  return typeof value === 'string' ? value : fallback
}

/** A boolean flag's value; `false` when absent. */
export function booleanFlag(flags: ParsedFlags, name: string): boolean {
  return flags.values.get(name) === true
}

/** The usage text of a command. */
export function usage(command: string, specs: readonly FlagSpec[]): string {
  const lines = specs.map(
    (spec) => `  -${spec.name}${spec.kind === 'string' ? ' string' : ''}\n    \t${spec.description}`,
  )
  return [`Usage of ${command}:`, ...lines].join('\n')
}
