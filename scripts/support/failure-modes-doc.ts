import { existsSync, readFileSync, writeFileSync } from 'node:fs'

/** The document `pnpm fuzz` and `pnpm soak` write their figures into. */
export const FAILURE_MODES_DOC = new URL('../../docs/failure-modes.md', import.meta.url)

/** The sections the scripts own, each between `<!-- name:begin -->` and `<!-- name:end -->`. */
export type GeneratedSection = 'fuzz' | 'soak'

const SKELETON = `# Failure modes

What k8s-attest survives, with figures. The sections between \`<!-- …:begin -->\` and
\`<!-- …:end -->\` markers are written by the scripts that measure them; edit the scripts, not the text.

## Fuzzing

\`pnpm fuzz\` (\`pnpm fuzz --cases N --seed S\`) writes its last run here.

<!-- fuzz:begin -->
<!-- fuzz:end -->

## Soak

\`pnpm soak\` (\`pnpm soak --minutes N --agents N\`) writes its last run here.

<!-- soak:begin -->
<!-- soak:end -->
`

/**
 * Replaces what sits between the section's markers with `markdown`, creating the document
 * (with both sections) when it does not exist. Text outside the markers is left alone.
 *
 * @throws {Error} when the document exists but lacks the section's markers.
 */
export function writeGeneratedSection(section: GeneratedSection, markdown: string): void {
  const text = existsSync(FAILURE_MODES_DOC) ? readFileSync(FAILURE_MODES_DOC, 'utf8') : SKELETON
  const begin = `<!-- ${section}:begin -->`
  const end = `<!-- ${section}:end -->`
  const from = text.indexOf(begin)
  const to = text.indexOf(end)
  if (from < 0 || to < from) {
    throw new Error(
      `${FAILURE_MODES_DOC.pathname} has no ${begin} … ${end} markers; add them where the figures belong`,
    )
  }
  writeFileSync(
    FAILURE_MODES_DOC,
    `${text.slice(0, from + begin.length)}\n${markdown.trim()}\n${text.slice(to)}`,
  )
}

/** A Markdown table. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n')
}
