import { formatDuration, parseDuration } from './duration.ts'
import type { ConfigIssue } from './errors.ts'

/**
 * Reads one body of an HCL file, as `@cdktf/hcl2json` returns it (attributes become values, an
 * unlabeled block `name { … }` becomes `name: [{ … }]`, a labeled block `Type "label" { … }`
 * becomes `Type: { label: [{ … }] }`), key by key. Each read checks the value's type and records
 * a {@link ConfigIssue} instead of throwing, so the loader can list every problem at once; each
 * read also marks its key as known, so {@link HclReader.rejectUnknownKeys} reports whatever was
 * never asked for. The list of valid keys therefore lives in one place: the reads.
 *
 * A read returns `undefined` when the key is absent or invalid; the caller uses its default and
 * carries on.
 */
export class HclReader {
  /** Where this body sits in the file, e.g. `agent` or `plugins.NodeAttestor.k8s_psat.plugin_data`. */
  readonly path: string
  readonly #body: Readonly<Record<string, unknown>>
  readonly #issues: ConfigIssue[]
  readonly #knownKeys = new Set<string>()

  constructor(path: string, body: Readonly<Record<string, unknown>>, issues: ConfigIssue[]) {
    this.path = path
    this.#body = body
    this.#issues = issues
  }

  /** Records a problem with `key` of this body, or with the body itself when `key` is undefined. */
  report(key: string | undefined, message: string): void {
    this.#issues.push({ path: key === undefined ? this.path : joinPath(this.path, key), message })
  }

  /** A string. `expected` completes "must be …", e.g. `'a host name such as "spire-server"'`. */
  string(key: string, expected: string, options: { readonly required?: boolean } = {}): string | undefined {
    const value = this.#take(key, expected, options.required === true)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#mismatch(key, expected, value)
    if (value.trim() === '') return this.#mismatch(key, `${expected}, not empty`, value)
    return value
  }

  /** `true` or `false` (not the strings `"true"`/`"false"`). */
  boolean(key: string): boolean | undefined {
    const value = this.#take(key, 'true or false', false)
    if (value === undefined) return undefined
    if (typeof value !== 'boolean') return this.#mismatch(key, 'true or false', value)
    return value
  }

  /** An integer within `[min, max]`. */
  integer(key: string, min: number, max: number): number | undefined {
    const expected = `an integer from ${min} to ${max}`
    const value = this.#take(key, expected, false)
    if (value === undefined) return undefined
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      return this.#mismatch(key, expected, value)
    }
    return value
  }

  /** A Go duration string (`"30s"`, `"1m30s"`) of at least `minMs`, in milliseconds. */
  duration(key: string, minMs: number, example: string): number | undefined {
    const expected = `a duration of at least ${formatDuration(minMs)} such as ${JSON.stringify(example)}`
    const value = this.#take(key, expected, false)
    if (value === undefined) return undefined
    if (typeof value !== 'string') return this.#mismatch(key, expected, value)
    const parsed = parseDuration(value)
    if (!parsed.ok) {
      this.report(key, `must be ${expected}; got ${JSON.stringify(value)} (${parsed.reason})`)
      return undefined
    }
    if (parsed.milliseconds < minMs) return this.#mismatch(key, expected, value)
    return parsed.milliseconds
  }

  /** A block written once, without a label: `name { … }`. */
  block(key: string, options: { readonly required?: boolean } = {}): HclReader | undefined {
    const value = this.#take(key, `a block, ${key} { … }`, options.required === true)
    if (value === undefined) return undefined
    if (!Array.isArray(value) || !value.every(isPlainObject)) {
      this.report(key, `must be written as a block, ${key} { … }, without "=" and without a label`)
      return undefined
    }
    if (value.length !== 1) {
      this.report(key, `is declared ${value.length} times; expected one ${key} block`)
      return undefined
    }
    return new HclReader(joinPath(this.path, key), value[0] as Record<string, unknown>, this.#issues)
  }

  /**
   * Blocks with one label, `Type "label" { … }` (the shape of `NodeAttestor "k8s_psat" { … }`),
   * one reader per label in file order. A label declared twice is reported.
   */
  labeledBlocks(key: string, exampleLabel: string): Map<string, HclReader> {
    const blocks = new Map<string, HclReader>()
    const shape = `${key} "${exampleLabel}" { … }`
    const value = this.#take(key, shape, false)
    if (value === undefined) return blocks
    if (!isPlainObject(value)) {
      this.report(key, `must be written as blocks with a name label, e.g. ${shape}`)
      return blocks
    }
    for (const [label, occurrences] of Object.entries(value)) {
      const path = joinPath(joinPath(this.path, key), label)
      if (!Array.isArray(occurrences) || occurrences.length === 0 || !occurrences.every(isPlainObject)) {
        this.#issues.push({ path, message: `must be written as a block with a name label, e.g. ${shape}` })
      } else if (occurrences.length > 1) {
        this.#issues.push({ path, message: `is declared ${occurrences.length} times; expected one` })
      } else {
        blocks.set(label, new HclReader(path, occurrences[0] as Record<string, unknown>, this.#issues))
      }
    }
    return blocks
  }

  /**
   * Reports every key of this body that no read asked for, with the closest known key as a
   * suggestion (`sever_port` → `server_port`), or the explanation in `hints` for keys known not
   * to apply here (SPIRE options this agent does not have).
   */
  rejectUnknownKeys(hints: Readonly<Record<string, string>> = {}): void {
    const unknown = Object.keys(this.#body).filter((key) => !this.#knownKeys.has(key))
    for (const key of unknown.sort()) {
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

  #take(key: string, expected: string, required: boolean): unknown {
    this.#knownKeys.add(key)
    if (!Object.hasOwn(this.#body, key)) {
      if (required) this.report(key, `is required; expected ${expected}`)
      return undefined
    }
    const value = this.#body[key]
    // hcl2json returns expressions it does not evaluate (variables, functions, templates) as
    // their source inside "${…}"; such a value means the file relies on evaluation we don't do.
    if (typeof value === 'string' && /\$\{|%\{/.test(value)) {
      this.report(
        key,
        `contains the HCL expression ${JSON.stringify(value)}, which is not evaluated; write a literal value ` +
          '(environment variables are substituted only with -expandEnv)',
      )
      return undefined
    }
    return value
  }

  #mismatch(key: string, expected: string, value: unknown): undefined {
    this.report(key, `must be ${expected}; got ${describeValue(value)}`)
    return undefined
  }
}

/** Parses a parsed HCL document's top level into a reader, or reports that it is not one. */
export function documentReader(document: unknown, issues: ConfigIssue[]): HclReader {
  return new HclReader('', isPlainObject(document) ? document : {}, issues)
}

/** Joins a key onto a path as it is written in the file, quoting keys that are not identifiers. */
export function joinPath(parent: string, key: string): string {
  const part = /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? key : `[${JSON.stringify(key)}]`
  if (parent === '') return part
  return part.startsWith('[') ? `${parent}${part}` : `${parent}.${part}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value)
  if (Array.isArray(value)) return value.length > 0 && value.every(isPlainObject) ? 'a block' : 'a list'
  if (isPlainObject(value)) return 'an object'
  return String(value)
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
