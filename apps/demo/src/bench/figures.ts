/*
 * How the bench prints: one figure a line, name padded to a column, and the figures kept for
 * whoever wants them afterwards. Every module that measures something records through this.
 */

/** One printed figure. */
export interface Figure {
  readonly name: string
  readonly value: string
}

/** The figures of one run, printed as they are recorded. */
export class Figures {
  readonly #write: (text: string) => void
  readonly #figures: Figure[] = []

  constructor(write: (text: string) => void = (text) => process.stdout.write(text)) {
    this.#write = write
  }

  /** Every figure recorded so far, in order. */
  get all(): readonly Figure[] {
    return this.#figures
  }

  /** A line of text that is not a figure (headings, explanations). */
  say(line = ''): void {
    this.#write(`${line}\n`)
  }

  /** A figure: `name` then `value`, aligned with the others. */
  record(name: string, value: string): void {
    this.#figures.push({ name, value })
    this.#write(`  ${name.padEnd(58)} ${value}\n`)
  }
}

/** `value` against a lower bound: "1.42× (target ≥ 1.3×: met)". */
export function atLeastTarget(value: number, floor: number, unit: string): string {
  const verdict = value >= floor ? 'met' : 'NOT met'
  return `${value.toFixed(2)}${unit} (target ≥ ${floor}${unit}: ${verdict})`
}

/** `value` against an upper bound, as the issue states its targets: "1.23× (≤ 3: met)". */
export function againstTarget(value: number, limit: number, unit: string): string {
  const verdict = value <= limit ? 'met' : 'NOT met'
  return `${value.toFixed(2)}${unit} (target ≤ ${limit}${unit}: ${verdict})`
}
