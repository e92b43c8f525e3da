import type { ConfigIssue } from './config-error.ts'
import { formatDuration, parseDuration } from './duration.ts'

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

/** Options shared by every typed read. */
export interface ReadOptions {
  /** Report the key as missing when it is absent. Default `false`: absent means "use the default". */
  readonly required?: boolean
}

/**
 * Reads one HCL body (the document, a block, or an object inside an attribute) key by key,
 * checking each value's type and recording a {@link ConfigIssue} for every problem instead of
 * stopping at the first. Each read also marks its key as known, so {@link rejectUnknownKeys}
 * can afterwards report everything that was never asked for: the list of keys lives in one
 * place, the reads themselves.
 *
 * A read returns `undefined` when the key is absent or its value is invalid; callers fall back
 * to the default and carry on, and the loader refuses the configuration at the end if any
 * issue was recorded.
 */
export class HclBodyReader {
  /** Where this body sits in the file, e.g. `server` or `plugins.DataStore.sql.plugin_data`. */
  readonly path: string
  readonly #body: Readonly<Record<string, unknown>>
  readonly #issues: ConfigIssue[]
  readonly #knownKeys = new Set<string>()

  constructor(path: string, body: Readonly<Record<string, unknown>>, issues: ConfigIssue[]) {
    this.path = path
    this.#body = body
    this.#issues = issues
  }

  /** Records a problem with `key` of this body (or with the body itself when `key` is omitted). */
  report(key: string | undefined, message: string): void {
    this.#issues.push({ path: key === undefined ? this.path : keyPath(this.path, key), message })
  }

  /** Whether `key` is present. Marks it as known. */
  has(key: string): boolean {
    this.#knownKeys.add(key)
    return Object.hasOwn(this.#body, key)
  }

  /** A string value. `expected` completes "must be …" in messages, e.g. `'an IP address'`. */
  string(key: string, expected: string, options: ReadOptions = {}): string | undefined {
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#wrongType(key, expected, value)
    return value
  }

  /** A boolean value (`true`/`false`, not `"true"`). */
  boolean(key: string, options: ReadOptions = {}): boolean | undefined {
    const expected = 'true or false'
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'boolean') return this.#wrongType(key, expected, value)
    return value
  }

  /** An integer within `[min, max]`. */
  integer(
    key: string,
    range: { readonly min: number; readonly max: number },
    options: ReadOptions = {},
  ): number | undefined {
    const expected = `an integer from ${range.min} to ${range.max}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
      return this.#wrongType(key, expected, value)
    }
    return value
  }

  /** A finite number greater than zero. */
  positiveNumber(key: string, options: ReadOptions = {}): number | undefined {
    const expected = 'a number greater than 0'
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      return this.#wrongType(key, expected, value)
    }
    return value
  }

  /**
   * A duration string in Go's syntax (`"24h"`, `"1h30m"`, `"90s"`), in milliseconds, at least
   * `minMs`.
   */
  duration(key: string, minMs: number, options: ReadOptions = {}): number | undefined {
    const expected = `a duration of at least ${formatDuration(minMs)} such as "24h", "1h30m" or "90s"`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#wrongType(key, expected, value)
    const parsed = parseDuration(value)
    if (!parsed.ok) {
      this.report(key, `must be ${expected}; got ${JSON.stringify(value)}: ${parsed.reason}`)
      return undefined
    }
    if (parsed.milliseconds < minMs) return this.#wrongType(key, expected, value)
    return parsed.milliseconds
  }

  /**
   * A list of strings, each checked by `checkItem` (which returns what is wrong, or
   * `undefined`). Items that fail are reported with their index and left out. With
   * `emptyMessage`, an empty list is reported with that message.
   */
  stringList(
    key: string,
    expectedItem: string,
    checkItem: (item: string) => string | undefined = () => undefined,
    options: ReadOptions & { readonly emptyMessage?: string } = {},
  ): string[] | undefined {
    const expected = `a list of ${expectedItem}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (!Array.isArray(value)) return this.#wrongType(key, expected, value)
    if (value.length === 0 && options.emptyMessage !== undefined) this.report(key, options.emptyMessage)
    const items: string[] = []
    value.forEach((item: unknown, index) => {
      const path = keyPath(keyPath(this.path, key), index)
      if (typeof item !== 'string') {
        this.#issues.push({ path, message: mismatchMessage(expectedItem, item) })
        return
      }
      const problem = checkItem(item)
      if (problem !== undefined) {
        this.#issues.push({ path, message: problem })
        return
      }
      items.push(item)
    })
    return items
  }

  /**
   * A block written once and without label, `name { … }`. Returns a reader for its body.
   */
  block(key: string, options: ReadOptions = {}): HclBodyReader | undefined {
    const expected = `a block, ${key} { … }`
    const value = this.#take(key, expected, options)
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
   * { … } }`). Returns one reader per label, in file order; a label declared twice is reported.
   */
  labeledBlocks(key: string, exampleLabel: string): Map<string, HclBodyReader> {
    const blocks = new Map<string, HclBodyReader>()
    const value = this.#take(key, '', {})
    if (value === undefined) return blocks
    const shape = `${key} "${exampleLabel}" { … }`
    if (!isPlainObject(value)) {
      this.report(key, `must be written as blocks with a name label, e.g. ${shape}`)
      return blocks
    }
    for (const [label, occurrences] of Object.entries(value)) {
      const path = keyPath(keyPath(this.path, key), label)
      if (!Array.isArray(occurrences) || !occurrences.every(isPlainObject) || occurrences.length === 0) {
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
   * A map attribute whose values are objects, `name = { "<key>" = { … } }` (the shape of
   * `clusters`). Returns one reader per entry, in file order.
   */
  objectMap(key: string, example: string, options: ReadOptions = {}): Map<string, HclBodyReader> | undefined {
    const expected = `a map of objects, ${key} = ${example}`
    const value = this.#take(key, expected, options)
    if (value === undefined) return undefined
    if (!isPlainObject(value)) return this.#wrongType(key, expected, value)
    const entries = new Map<string, HclBodyReader>()
    for (const [name, body] of Object.entries(value)) {
      const path = keyPath(keyPath(this.path, key), name)
      if (!isPlainObject(body)) {
        this.#issues.push({ path, message: mismatchMessage(`an object, { … }`, body) })
      } else {
        entries.set(name, new HclBodyReader(path, body, this.#issues))
      }
    }
    return entries
  }

  /**
   * Reports every key of this body that no read asked for. The message suggests the closest
   * known key when there is one within a small edit distance (`audiance` → `audience`), or
   * gives the explanation from `hints` for keys that are known not to be supported here (SPIRE
   * options without an equivalent, for instance).
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
      const known = [...this.#knownKeys].sort().join(', ')
      this.report(
        key,
        suggestion === undefined
          ? `is not a known key here; expected one of: ${known}`
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
    return value
  }

  #wrongType(key: string, expected: string, value: unknown): undefined {
    this.report(key, mismatchMessage(expected, value))
    return undefined
  }
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function mismatchMessage(expected: string, value: unknown): string {
  return `must be ${expected}; got ${describeValue(value)}`
}

/** A short description of a value for messages: strings quoted, structures named. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  }
  if (Array.isArray(value)) {
    return value.length > 0 && value.every(isPlainObject) ? 'a block' : `a list of ${value.length} items`
  }
  if (isPlainObject(value)) return 'an object'
  return String(value)
}

/**
 * hcl2json returns an expression it does not evaluate (a variable reference, a function call,
 * a template with `${…}` or `%{…}`) as its source text inside `"${…}"`, so such a string
 * anywhere in a value means the file relies on HCL evaluation that k8s-attest does not do.
 */
function findUnevaluatedExpression(value: unknown): string | undefined {
  if (typeof value === 'string') return /\$\{|%\{/.test(value) ? value : undefined
  if (Array.isArray(value)) {
    for (const item of value) {
      if (typeof item === 'string' && /\$\{|%\{/.test(item)) return item
    }
  }
  return undefined
}

/** The known key closest to `key` by edit distance, if close enough to be a likely typo. */
function closestKey(key: string, known: ReadonlySet<string>): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance, two rows at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
