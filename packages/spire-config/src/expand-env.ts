/**
 * The environment `$VAR` and `${VAR}` are looked up in. Unset and `undefined` both expand to `''`.
 */
export type Environment = Readonly<Record<string, string | undefined>>

/**
 * Expands `$VAR` and `${VAR}` in `text` with the semantics of Go's `os.ExpandEnv`, which is what
 * `spire-server run -expandEnv` and `spire-agent run -expandEnv` apply to the whole configuration
 * file before parsing it:
 *
 * - `${NAME}` and `$NAME` (NAME made of ASCII letters, digits and `_`) become the variable's value.
 *   An unset variable becomes the empty string, as in Go: no error, and no default syntax
 *   (`${VAR:-x}` looks up a variable literally named `VAR:-x`).
 * - `$` followed by one of the shell's special characters (`*#$@!?-` or a digit), bare or in
 *   braces, expands the variable of that one-character name (`$1`, `${1}`, `$$`).
 * - `$` followed by anything else (a space, a quote), or at the end of the text, stays as it is.
 * - `${}` and an unterminated `${` are dropped, as Go drops malformed syntax.
 *
 * Comments are expanded too: the substitution happens on the text, before HCL sees it. The
 * function is pure; the caller passes the environment (in practice `process.env`, which only
 * each app's config loader reads).
 *
 * @example
 * ```ts
 * expandEnv('server_address = "${SERVER}"', { SERVER: 'spire-server' })
 * // 'server_address = "spire-server"'
 * ```
 */
export function expandEnv(text: string, env: Environment): string {
  let out = ''
  let copiedUpTo = 0
  // A `$` in the last position has nothing after it to name a variable, so it is left as text.
  for (let index = 0; index < text.length - 1; index++) {
    if (text[index] !== '$') continue
    out += text.slice(copiedUpTo, index)
    const { name, width } = shellNameAt(text, index + 1)
    if (name !== undefined) out += lookUp(env, name)
    else if (width === 0) out += '$'
    index += width
    copiedUpTo = index + 1
  }
  return out + text.slice(copiedUpTo)
}

/**
 * The variable `name`, or `''` when it is unset. Only the environment's own keys count: a plain
 * object also answers `constructor` or `toString` from its prototype, which Go's `os.Getenv` knows
 * nothing of, so `$constructor` must expand to `''`, not to a function's source text.
 */
function lookUp(env: Environment, name: string): string {
  return Object.hasOwn(env, name) ? (env[name] ?? '') : ''
}

const SHELL_SPECIAL_CHARACTER = /^[*#$@!?\-0-9]$/
const NAME_CHARACTER = /^[A-Za-z0-9_]$/

/**
 * The variable name starting at `start` (just after a `$`) and how many characters it spans, as
 * Go's `getShellName` reads it. `name` is `undefined` when nothing is expanded: a `width` of 0
 * keeps the `$`, a positive `width` drops that much malformed `${…` syntax.
 */
function shellNameAt(text: string, start: number): { name: string | undefined; width: number } {
  const first = text.charAt(start)
  if (first === '{') {
    // Go special-cases `${1}`-style names first; reading up to the closing brace gives the same.
    const close = text.indexOf('}', start + 1)
    if (close === -1) return { name: undefined, width: 1 }
    if (close === start + 1) return { name: undefined, width: 2 }
    return { name: text.slice(start + 1, close), width: close - start + 1 }
  }
  if (SHELL_SPECIAL_CHARACTER.test(first)) return { name: first, width: 1 }
  let end = start
  while (end < text.length && NAME_CHARACTER.test(text.charAt(end))) end++
  return end === start ? { name: undefined, width: 0 } : { name: text.slice(start, end), width: end - start }
}
