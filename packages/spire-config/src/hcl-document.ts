import { ConfigError, type ConfigIssue, type ConfigSource } from './config-error.ts'

/**
 * An HCL file as JSON, in the shape `@cdktf/hcl2json` (HashiCorp's own HCL v2 parser, compiled to
 * WebAssembly) produces: attributes become values; an unlabeled block `name { … }` becomes
 * `name: [{ … }]` (one element per occurrence); a labeled block `Type "label" { … }` becomes
 * `Type: { label: [{ … }] }`. Expressions that are not literals are not evaluated: they come back
 * as their source text wrapped in `"${…}"`.
 */
export type HclDocument = Readonly<Record<string, unknown>>

/**
 * Parses HCL text. `source.fileName` only labels locations in syntax errors.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_SYNTAX`, one issue per parser diagnostic, each with the
 *   `file:line:column` where it starts.
 */
export async function parseHclDocument(text: string, source: ConfigSource): Promise<HclDocument> {
  // Imported on first use: loading it starts a Go runtime in WebAssembly, which a command that
  // never parses a file (a usage error, a missing file) should not pay for.
  const { parse } = await import('@cdktf/hcl2json')
  let document: unknown
  try {
    document = await parse(source.fileName, text)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new ConfigError('ATT_ERR_CONFIG_SYNTAX', source, syntaxIssuesFrom(message, source.fileName), {
      cause: error,
    })
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    // The parser's contract is an object for any valid file; anything else is its bug, not the file's.
    throw new TypeError(
      `@cdktf/hcl2json returned ${typeof document} for ${source.fileName}, expected an object`,
    )
  }
  return document as HclDocument
}

/**
 * Splits the parser's single message, `parse config: [<file>:<line>,<col>-<end>: <summary>;
 * <detail> <file>:<line>,…]`, into one issue per diagnostic located at `file:line:column`. A
 * message of another shape is kept whole, so nothing the parser said is lost.
 */
export function syntaxIssuesFrom(message: string, fileName: string): ConfigIssue[] {
  const body = /^parse config: \[([\s\S]*)\]$/.exec(message)?.[1] ?? message
  const escapedName = fileName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const location = new RegExp(`(?:^|\\s)${escapedName}:(\\d+),(\\d+)(?:-\\d+(?:,\\d+)?)?: `, 'g')
  const starts = [...body.matchAll(location)]
  if (starts.length === 0) return [{ path: fileName, message: body.trim() }]
  return starts.map((start, index) => {
    const textStart = start.index + start[0].length
    const textEnd = starts[index + 1]?.index ?? body.length
    return { path: `${fileName}:${start[1]}:${start[2]}`, message: body.slice(textStart, textEnd).trim() }
  })
}
