import { closestKey } from './closest-key.ts'
import type { ConfigIssue } from './config-error.ts'
import { formatDuration, parseDuration } from './duration.ts'
import type { HclDocument } from './hcl-document.ts'

/** Options shared by every typed read. */
export interface ReadOptions {
  /** Report the key as missing when it is absent. Default `false`: absent means "use the default". */
  readonly required?: boolean
}

/** Options of {@link HclBodyReader.string}. */
export interface StringReadOptions extends ReadOptions {
  /**
   * Accept `""` (and blank strings). Default `false`: for most keys an empty value is a slip (an
   * unset variable under `-expandEnv` expands to `""`), and is reported. Set it for keys where the
   * empty string means something, such as SPIRE's `kube_config_file = ""` (in-cluster
   * configuration), and check the value yourself.
   */
  readonly allowEmpty?: boolean
}

/** Options of {@link HclBodyReader.stringList}. */
export interface StringListReadOptions extends ReadOptions {
  /** Report an empty list with this message. Default: an empty list is accepted. */
  readonly emptyMessage?: string
}

/** The accepted range of {@link HclBodyReader.integer}, both ends included. */
export interface IntegerRange {
  readonly min: number
  readonly max: number
}

/** The accepted range of {@link HclBodyReader.duration} and how messages illustrate it. */
export interface DurationBounds {
  /** The shortest accepted duration, in milliseconds. */
  readonly minMs: number
  /** The longest accepted duration, in milliseconds. Default: no limit. */
  readonly maxMs?: number
  /**
   * Settings quoted in messages as examples (`such as "1s"`). Default `["24h", "1h30m", "90s"]`,
   * which shows the syntax; pass one that fits the key where a typical value helps more.
   */
  readonly examples?: readonly string[]
}

const DEFAULT_DURATION_EXAMPLES = ['24h', '1h30m', '90s'] as const

/**
 * Reads one HCL body (the document, a block, or an object inside an attribute) key by key, in the
 * JSON shape of an {@link HclDocument} (blocks as arrays of bodies, labeled blocks as maps of
 * them). Each read checks the value's type and records a {@link ConfigIssue} in the shared list
 * instead of throwing, so a loader can report every problem at once. Each read also marks its key as known, so
 * {@link HclBodyReader.rejectUnknownKeys} can afterwards report everything that was never asked
 * for: the list of valid keys lives in one place, the reads themselves.
 *
 * A read returns `undefined` when the key is absent or its value is invalid; the caller falls back
 * to its default and carries on, and `parseConfig` refuses the configuration at the end if any
 * issue was recorded.
 *
 * @example
 * ```ts
 * // Inside parseConfig(text, source, options, (root) => …):
 * const agent = root.block('agent', { required: true })
 * root.rejectUnknownKeys({ server: 'this is an agent configuration' })
 * const port = agent?.integer('server_port', { min: 1, max: 65_535 }) ?? 8081
 * agent?.rejectUnknownKeys({ join_token: 'only Kubernetes service account tokens are supported' })
 * ```
 */
export class HclBodyReader {
  /** Where this body sits in the file, e.g. `agent` or `plugins.NodeAttestor.k8s_psat.plugin_data`; `''` for the document. */
  readonly path: string
  readonly #body: Readonly<Record<string, unknown>>
  readonly #issues: ConfigIssue[]
  readonly #knownKeys = new Set<string>()

  /**
   * @param path where `body` sits in the file (see {@link HclBodyReader.path}).
   * @param body the parsed body.
   * @param issues the list every problem is appended to; shared by all readers of one file.
   */
  constructor(path: string, body: Readonly<Record<string, unknown>>, issues: ConfigIssue[]) {
    this.path = path
    this.#body = body
    this.#issues = issues
  }

  /** Records a problem with `key` of this body, or with the body itself when `key` is `undefined`. */
  report(key: string | undefined, message: string): void {
    this.#issues.push({ path: key === undefined ? this.path : keyPath(this.path, key), message })
  }

  /** Whether `key` is present. Marks it as known, for keys whose value another read checks. */
  has(key: string): boolean {
    this.#knownKeys.add(key)
    return Object.hasOwn(this.#body, key)
  }

  /**
   * A string. `expected` completes "must be …" in messages, e.g. `'a host name such as
   * "spire-server"'`. Empty strings are refused unless `options.allowEmpty`.
   */
  string(key: string, expected: string, options: StringReadOptions = {}): string | undefined {
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#mismatch(key, expected, value)
    if (options.allowEmpty !== true && value.trim() === '')
      return this.#mismatch(key, `${expected}, not empty`, value)
    return value
  }

  /** `true` or `false` (not the strings `"true"`/`"false"`). */
  boolean(key: string, options: ReadOptions = {}): boolean | undefined {
    const expected = 'true or false'
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'boolean') return this.#mismatch(key, expected, value)
    return value
  }

  /** An integer within `range`, both ends included. */
  integer(key: string, range: IntegerRange, options: ReadOptions = {}): number | undefined {
    const expected = `an integer from ${range.min} to ${range.max}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      return this.#mismatch(key, expected, value)
    }
    return value
  }

  /** A finite number greater than zero, fractions allowed (a rate, say). */
  positiveNumber(key: string, options: ReadOptions = {}): number | undefined {
    const expected = 'a number greater than 0'
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      return this.#mismatch(key, expected, value)
    }
    return value
  }

  /**
   * A duration string in Go's syntax (`"30s"`, `"1h30m"`, see {@link parseDuration}) within
   * `bounds`, in milliseconds. A bare number is refused, as in SPIRE: it has no unit.
   */
  duration(key: string, bounds: DurationBounds, options: ReadOptions = {}): number | undefined {
    const examples = listInWords(
      (bounds.examples ?? DEFAULT_DURATION_EXAMPLES).map((item) => JSON.stringify(item)),
    )
    const range =
      bounds.maxMs === undefined
        ? `of at least ${formatDuration(bounds.minMs)}`
        : `from ${formatDuration(bounds.minMs)} to ${formatDuration(bounds.maxMs)}`
    const expected = `a duration ${range} such as ${examples}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#mismatch(key, expected, value)
    const parsed = parseDuration(value)
    if (!parsed.ok) {
      this.report(key, `must be ${expected}; got ${JSON.stringify(value)}: ${parsed.reason}`)
      return undefined
    }
    if (
      parsed.milliseconds < bounds.minMs ||
      parsed.milliseconds > (bounds.maxMs ?? Number.POSITIVE_INFINITY)
    ) {
      return this.#mismatch(key, expected, value)
    }
    return parsed.milliseconds
  }

  /**
   * A list of strings, each checked by `checkItem` (which returns what is wrong, or `undefined`).
   * Items that fail are reported with their index (`dns_names[1]`) and left out of the result.
   */
  stringList(
    key: string,
    expectedItem: string,
    checkItem: (item: string) => string | undefined = () => undefined,
    options: StringListReadOptions = {},
  ): string[] | undefined {
    const expected = `a list of ${expectedItem}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (!Array.isArray(value)) return this.#mismatch(key, expected, value)
    if (value.length === 0 && options.emptyMessage !== undefined) this.report(key, options.emptyMessage)
    const items: string[] = []
    value.forEach((item: unknown, index) => {
      const path = keyPath(keyPath(this.path, key), index)
      const problem = typeof item === 'string' ? checkItem(item) : mismatchMessage(expectedItem, item)
      if (problem !== undefined) this.#issues.push({ path, message: problem })
      else items.push(item as string)
    })
    return items
  }

  /** A block written once, without `=` and without a label: `name { … }`. Returns a reader for its body. */
  block(key: string, options: ReadOptions = {}): HclBodyReader | undefined {
    const value = this.#take(key, `a block, ${key} { … }`, options)
    if (value === undefined) return undefined
    if (!Array.isArray(value) || !value.every(isPlainObject)) {
      this.report(key, `must be written as a block, ${key} { … }, without "=" and without a label`)
      return undefined
    }
    if (value.length !== 1) {
      this.report(key, `is declared ${value.length} times; expected one ${key} block`)
      return undefined
    }
    return new HclBodyReader(keyPath(this.path, key), value[0] as Record<string, unknown>, this.#issues)
  }

  /**
   * Blocks with one label, `Type "label" { … }` (the shape of `plugins { NodeAttestor "k8s_psat"
   * { … } }`). Returns one reader per label, sorted by label (the parser returns maps sorted, not in
   * file order); a label declared twice is reported and left out. Absent means an empty map: the
   * caller decides whether one is required.
   */
  labeledBlocks(key: string, exampleLabel: string): Map<string, HclBodyReader> {
    const blocks = new Map<string, HclBodyReader>()
    const shape = `${key} "${exampleLabel}" { … }`
    const value = this.#take(key, shape, {})
    if (value === undefined) return blocks
    if (!isPlainObject(value)) {
      this.report(key, `must be written as blocks with a name label, e.g. ${shape}`)
      return blocks
    }
    for (const [label, occurrences] of Object.entries(value)) {
      const path = keyPath(keyPath(this.path, key), label)
      if (!Array.isArray(occurrences) || occurrences.length === 0 || !occurrences.every(isPlainObject)) {
        this.#issues.push({ path, message: `must be written as a block with a name label, e.g. ${shape}` })
      } else if (occurrences.length > 1) {
        this.#issues.push({
          path,
          message: `is declared ${occurrences.length} times; expected at most one ${key} "${label}" block`,
        })
      } else {
        blocks.set(label, new HclBodyReader(path, occurrences[0] as Record<string, unknown>, this.#issues))
      }
    }
    return blocks
  }

  /**
   * A map attribute whose values are objects, `name = { "<key>" = { … } }` (the shape of SPIRE's
   * `clusters`). `example` completes "must be a map of objects, name = …". Returns one reader per
   * entry, sorted by key as the parser returns them.
   */
  objectMap(key: string, example: string, options: ReadOptions = {}): Map<string, HclBodyReader> | undefined {
    const expected = `a map of objects, ${key} = ${example}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (!isPlainObject(value)) return this.#mismatch(key, expected, value)
    const entries = new Map<string, HclBodyReader>()
    for (const [name, body] of Object.entries(value)) {
      const path = keyPath(keyPath(this.path, key), name)
      if (isPlainObject(body)) entries.set(name, new HclBodyReader(path, body, this.#issues))
      else this.#issues.push({ path, message: mismatchMessage('an object, { … }', body) })
    }
    return entries
  }

  /**
   * Reports every key of this body that no read asked for. Call it after the reads. The message
   * suggests the closest known key when one is within a small edit distance (`sever_port` →
   * `server_port`), lists the known keys otherwise, or gives the explanation in `hints` for keys
   * known not to apply here (SPIRE options without an equivalent, for instance).
   */
  rejectUnknownKeys(hints: Readonly<Record<string, string>> = {}): void {
    const unknown = Object.keys(this.#body)
      .filter((key) => !this.#knownKeys.has(key))
      .sort()
    for (const key of unknown) {
      const hint = Object.hasOwn(hints, key) ? hints[key] : undefined
      if (hint !== undefined) {
        this.report(key, `is not supported: ${hint}`)
        continue
      }
      const suggestion = closestKey(key, this.#knownKeys)
      this.report(
        key,
        suggestion === undefined
          ? `is not a known key here; expected one of: ${[...this.#knownKeys].sort().join(', ')}`
          : `is not a known key here; did you mean ${JSON.stringify(suggestion)}?`,
      )
    }
  }

  /** The value at `key`, or `undefined` when absent (reported if required) or an HCL expression. */
  #take(key: string, expected: string, options: ReadOptions): unknown {
    this.#knownKeys.add(key)
    if (!Object.hasOwn(this.#body, key)) {
      if (options.required === true) this.report(key, `is required; expected ${expected}`)
      return undefined
    }
    const value = this.#body[key]
    const expression = findUnevaluatedExpression(value)
    if (expression !== undefined) {
      this.report(
        key,
        `contains the HCL expression ${JSON.stringify(expression)}, which is not evaluated; write a literal value ` +
          '(environment variables are substituted only when the configuration is loaded with expandEnv)',
      )
      return undefined
    }
    return unescapeLiterals(value)
  }

  #mismatch(key: string, expected: string, value: unknown): undefined {
    this.report(key, mismatchMessage(expected, value))
    return undefined
  }
}

/**
 * Joins a key onto a configuration path the way the key is written in the file:
 * `server.trust_domain`, `dns_names[1]`, and bracketed quotes for keys that are not plain
 * identifiers, `clusters["my.cluster"]`, so every path in an error names one key unambiguously.
 */
export function keyPath(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return `${parent}[${JSON.stringify(key)}]`
  return parent === '' ? key : `${parent}.${key}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function mismatchMessage(expected: string, value: unknown): string {
  return `must be ${expected}; got ${describeValue(value)}`
}

/** A short description of a value for messages: strings quoted (and cut at 80 characters), structures named. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  if (Array.isArray(value)) {
    return value.length > 0 && value.every(isPlainObject) ? 'a block' : `a list of ${value.length} items`
  }
  if (isPlainObject(value)) return 'an object'
  return String(value)
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`. */
function listInWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('')
  return `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/**
 * The parser returns an expression it does not evaluate (a variable reference, a function call, a
 * template with `${…}` or `%{…}`) as its source text inside `"${…}"`, so such a string in a value
 * or a list item means the file relies on HCL evaluation that this reader does not do. Silently
 * taking `"${var.port}"` as a literal would be worse than refusing it.
 */
function findUnevaluatedExpression(value: unknown): string | undefined {
  const items = Array.isArray(value) ? value : [value]
  return items.find((item): item is string => typeof item === 'string' && UNEVALUATED.test(item))
}

/** `${` or `%{` that is not the escape `$${` / `%%{` of a literal one. */
const UNEVALUATED = /(?<!\$)\$\{|(?<!%)%\{/

/**
 * The document keeps a literal `${` or `%{` escaped, as `$${` and `%%{` (hcl2json's form, so
 * it cannot be taken for an expression): the value the configuration means has them unescaped.
 */
function unescapeLiterals(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/([$%])\1\{/g, '$1{')
  if (Array.isArray(value))
    return value.map((item) => (typeof item === 'string' ? unescapeLiterals(item) : item))
  return value
}
