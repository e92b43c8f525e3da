/**
 * Expands `$VAR` and `${VAR}` in `text` with Go's `os.ExpandEnv` semantics, which is what
 * `spire-server run -expandEnv` applies to the whole configuration file before parsing it:
 *
 * - `${NAME}` and `$NAME` (NAME = ASCII letters, digits, `_`) become the variable's value;
 *   an unset variable becomes the empty string, exactly like Go (no error, no default syntax:
 *   `${VAR:-x}` looks up a variable literally named `VAR:-x`).
 * - `$` followed by one of the shell's special characters (`*#$@!?-` or a digit) expands the
 *   variable of that one-character name (`$1`, `$$`), usually to the empty string.
 * - `$` followed by anything else (a space, a quote, the end of the text) stays as it is.
 * - `${}` and an unterminated `${` are dropped, as Go drops malformed syntax.
 *
 * Comments are expanded too: the substitution happens on the text, before HCL sees it.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  let out = ''
  let copiedUpTo = 0
  for (let index = 0; index < text.length; index++) {
    if (text[index] !== '$' || index + 1 >= text.length) continue
    out += text.slice(copiedUpTo, index)
    const { name, width } = readShellName(text, index + 1)
    if (name === '' && width > 0) {
      // Malformed `${…`: Go eats the characters and expands nothing.
    } else if (name === '') {
      out += '$'
    } else {
      out += env[name] ?? ''
    }
    index += width
    copiedUpTo = index + 1
  }
  return out + text.slice(copiedUpTo)
}

const SHELL_SPECIAL = new Set([
  '*',
  '#',
  '$',
  '@',
  '!',
  '?',
  '-',
  '0',
  '1',
  '2',
  '3',
  '4',
  '5',
  '6',
  '7',
  '8',
  '9',
])

function isNameCharacter(character: string | undefined): boolean {
  return character !== undefined && /^[A-Za-z0-9_]$/.test(character)
}

/** The variable name starting at `start` (just after `$`) and how many characters it spans. */
function readShellName(text: string, start: number): { name: string; width: number } {
  const first = text[start]
  if (first === '{') {
    const second = text[start + 1]
    if (second !== undefined && SHELL_SPECIAL.has(second) && text[start + 2] === '}') {
      return { name: second, width: 3 }
    }
    const close = text.indexOf('}', start + 1)
    if (close === -1) return { name: '', width: 1 } // unterminated: eat "${"
    if (close === start + 1) return { name: '', width: 2 } // "${}": eat it
    return { name: text.slice(start + 1, close), width: close - start + 1 }
  }
  if (first !== undefined && SHELL_SPECIAL.has(first)) return { name: first, width: 1 }
  let end = start
  while (isNameCharacter(text[end])) end++
  return { name: text.slice(start, end), width: end - start }
}
