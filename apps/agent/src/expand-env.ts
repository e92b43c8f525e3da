/**
 * Expands `$VAR` and `${VAR}` in `text` with the semantics of Go's `os.ExpandEnv`, which is
 * what `spire-agent run -expandEnv` applies to the whole configuration file before parsing:
 *
 * - `${NAME}` and `$NAME` (NAME made of ASCII letters, digits and `_`) become the variable's
 *   value; an unset variable becomes the empty string, as in Go (there is no `${VAR:-default}`).
 * - `$` followed by one of the shell's special characters (`*#$@!?-` or a digit) expands the
 *   variable of that one-character name.
 * - `$` followed by anything else, or at the end of the text, stays as it is.
 * - `${}` and an unterminated `${` are dropped, as Go drops malformed syntax.
 *
 * It is pure: the caller passes the environment (only config.ts reads `process.env`).
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = ''
  let copiedUpTo = 0
  for (let index = 0; index < text.length - 1; index++) {
    if (text[index] !== '$') continue
    out += text.slice(copiedUpTo, index)
    const { name, width } = shellNameAt(text, index + 1)
    if (name !== undefined) out += env[name] ?? ''
    else if (width === 0) out += '$'
    index += width
    copiedUpTo = index + 1
  }
  return out + text.slice(copiedUpTo)
}

const SHELL_SPECIAL = /^[*#$@!?\-0-9]$/
const NAME_CHARACTER = /^[A-Za-z0-9_]$/

/**
 * The variable name starting at `start` (just after a `$`) and how many characters it spans.
 * `name` is `undefined` when nothing is expanded: `width` 0 keeps the `$`, a positive `width`
 * drops malformed `${…` syntax.
 */
function shellNameAt(text: string, start: number): { name: string | undefined; width: number } {
  const first = text.charAt(start)
  if (first === '{') {
    const close = text.indexOf('}', start + 1)
    if (close === -1) return { name: undefined, width: 1 }
    if (close === start + 1) return { name: undefined, width: 2 }
    return { name: text.slice(start + 1, close), width: close - start + 1 }
  }
  if (SHELL_SPECIAL.test(first)) return { name: first, width: 1 }
  let end = start
  while (end < text.length && NAME_CHARACTER.test(text.charAt(end))) end++
  return end === start ? { name: undefined, width: 0 } : { name: text.slice(start, end), width: end - start }
}
