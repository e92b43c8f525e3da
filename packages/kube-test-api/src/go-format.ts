/**
 * Go's `%q` formatting, because kube-apiserver's messages are built with it
 * (`pods "p" not found`, `token audiences ["a" "b"] is invalid …`) and callers
 * compare those texts.
 */

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
}

/**
 * `strconv.Quote`: double quotes, backslash escapes for `"` and `\`, short
 * escapes for common control characters, `\xNN` / `\uNNNN` for other
 * non-printable ones; printable Unicode is kept as is.
 */
export function goQuote(value: string): string {
  let quoted = '"'
  for (const char of value) {
    const short = SHORT_ESCAPES[char]
    if (short !== undefined) {
      quoted += short
      continue
    }
    const codePoint = char.codePointAt(0) ?? 0
    if (codePoint < 0x20 || codePoint === 0x7f) quoted += `\\x${codePoint.toString(16).padStart(2, '0')}`
    else if (codePoint >= 0x80 && codePoint < 0xa0) quoted += `\\u${codePoint.toString(16).padStart(4, '0')}`
    else quoted += char
  }
  return `${quoted}"`
}

/** `fmt.Sprintf("%q", []string{…})`: `["a" "b"]` (space-separated, no commas). */
export function goQuoteList(values: readonly string[]): string {
  return `[${values.map(goQuote).join(' ')}]`
}
