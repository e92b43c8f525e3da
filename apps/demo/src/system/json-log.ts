import { open, stat } from 'node:fs/promises'

/** One parsed log line: pino's JSON object (`level`, `time`, `msg` and the line's own fields). */
export type LogEntry = Readonly<Record<string, unknown>>

/**
 * The JSON-lines log of a process, read from a byte offset on, so that a restarted process's
 * log (appended to the same file) can be read for its own run only.
 *
 * Lines that are not JSON objects (Node's own warnings on standard error) are skipped; the last
 * line is ignored until its newline arrives, since the process may still be writing it.
 */
export class JsonLog {
  readonly path: string
  readonly #fromByte: number

  private constructor(path: string, fromByte: number) {
    this.path = path
    this.#fromByte = fromByte
  }

  /** The whole file. */
  static whole(path: string): JsonLog {
    return new JsonLog(path, 0)
  }

  /** What will be appended to `path` from now on (the file need not exist yet). */
  static async fromEnd(path: string): Promise<JsonLog> {
    const size = await stat(path).then(
      (stats) => stats.size,
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return 0
        throw error
      },
    )
    return new JsonLog(path, size)
  }

  /** The raw text from the offset on, `''` while the file does not exist. */
  async text(): Promise<string> {
    let file: Awaited<ReturnType<typeof open>>
    try {
      file = await open(this.path, 'r')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return ''
      throw error
    }
    try {
      const { size } = await file.stat()
      const length = Math.max(0, size - this.#fromByte)
      const buffer = Buffer.alloc(length)
      const { bytesRead } = await file.read(buffer, 0, length, this.#fromByte)
      return buffer.subarray(0, bytesRead).toString('utf8')
    } finally {
      await file.close()
    }
  }

  /**
   * Every complete JSON line so far, parsed.
   *
   * @throws {SyntaxError} naming the file, for a complete line that is broken JSON.
   */
  async entries(): Promise<LogEntry[]> {
    const text = await this.text()
    try {
      return parseJsonLines(text)
    } catch (error) {
      throw new SyntaxError(`${this.path} holds a broken JSON log line`, { cause: error })
    }
  }

  /** The first entry `match` accepts, or `undefined`. */
  async find(match: (entry: LogEntry) => boolean): Promise<LogEntry | undefined> {
    return (await this.entries()).find(match)
  }

  /** Every entry `match` accepts. */
  async filter(match: (entry: LogEntry) => boolean): Promise<LogEntry[]> {
    return (await this.entries()).filter(match)
  }

  /** The last `lines` lines, for error messages. */
  async tail(lines = 15): Promise<string> {
    const all = (await this.text()).trimEnd().split('\n')
    return `--- last ${Math.min(lines, all.length)} lines of ${this.path} ---\n${all.slice(-lines).join('\n')}`
  }
}

/**
 * Parses complete JSON lines, skipping lines that are not JSON objects and an unterminated last
 * line.
 *
 * @throws {SyntaxError} for a complete line that starts like a JSON object but is not one: a
 *   corrupted log is a finding, not something to step over.
 */
export function parseJsonLines(text: string): LogEntry[] {
  const complete = text.split('\n').slice(0, -1)
  const entries: LogEntry[] = []
  for (const line of complete) {
    if (!line.startsWith('{')) continue
    const value: unknown = JSON.parse(line)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) entries.push(value as LogEntry)
  }
  return entries
}

/** A matcher for entries whose `msg` contains `text`. */
export function messageIncludes(text: string): (entry: LogEntry) => boolean {
  return (entry) => typeof entry.msg === 'string' && entry.msg.includes(text)
}
