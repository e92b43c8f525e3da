import { ConfigError, type ConfigSource } from './config-error.ts'
import { lineAndColumn } from './hcl/line-and-column.ts'
import { HclSyntaxError, parseHcl } from './hcl/parser.ts'
import { toDocument } from './hcl/to-document.ts'

/**
 * An HCL file as JSON, in the shape `@cdktf/hcl2json` (HashiCorp's own HCL v2 parser, compiled to
 * WebAssembly) produces, which this package's own parser reproduces without loading it:
 * attributes become values; an unlabeled block `name { … }` becomes `name: [{ … }]` (one element
 * per occurrence); a labeled block `Type "label" { … }` becomes `Type: { label: [{ … }] }` (two
 * labels nest twice). Expressions that are not literals are not evaluated: they come back as
 * their source text wrapped in `"${…}"`.
 */
export type HclDocument = Readonly<Record<string, unknown>>

/**
 * Parses HCL text. `source.fileName` only labels locations in syntax errors.
 *
 * Synchronous and pure JavaScript: `hcl2json`'s WebAssembly build cost a CLI call 200–400 ms to
 * start and kept a Go heap in the process for its lifetime; a differential test holds this
 * parser to the same output and the same refusals.
 *
 * @throws {ConfigError} `ATT_ERR_CONFIG_SYNTAX`, one issue per problem, each located at the
 *   `file:line:column` (1-based) where it starts.
 */
export function parseHclDocument(text: string, source: ConfigSource): HclDocument {
  const parsed = parseHcl(text)
  if (!parsed.ok) {
    const inFileOrder = [...parsed.diagnostics].sort((a, b) => a.offset - b.offset)
    const issues = inFileOrder.map(({ offset, message }) => ({
      path: `${source.fileName}:${lineAndColumn(text, offset)}`,
      message,
    }))
    throw new ConfigError('ATT_ERR_CONFIG_SYNTAX', source, issues)
  }
  try {
    return toDocument(parsed.body, text)
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error
    const issue = { path: `${source.fileName}:${lineAndColumn(text, error.offset)}`, message: error.message }
    throw new ConfigError('ATT_ERR_CONFIG_SYNTAX', source, [issue])
  }
}
