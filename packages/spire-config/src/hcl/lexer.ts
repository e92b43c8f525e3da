/**
 * The tokens of HCL's native syntax, as HashiCorp's scanner (`hclsyntax`) cuts them: the parser
 * in `parser.ts` reads them, so this module only knows characters, never the grammar.
 *
 * Strings and heredocs are templates: an opening token, literal pieces, `${`/`%{` sequences whose
 * content is lexed as ordinary tokens up to the matching `}`, and a closing token. A quoted
 * string's literal pieces carry their escapes decoded; a heredoc's are kept raw, one piece per
 * line, because `<<-` trims indentation by line before anything is decoded.
 */

/** What a token is; punctuation tokens are their own text. */
export type TokenType =
  | 'ident'
  | 'number'
  | 'newline'
  | 'eof'
  | 'invalid'
  /** `"` opening a quoted template. */
  | 'oquote'
  /** `"` closing it. */
  | 'cquote'
  /** Literal text of a quoted template, escapes decoded in `value`. */
  | 'quoted-lit'
  /** `<<EOF` or `<<-EOF` and its newline. */
  | 'oheredoc'
  /** The closing marker line of a heredoc. */
  | 'cheredoc'
  /** Literal text of a heredoc, raw, at most one line. */
  | 'heredoc-lit'
  /** `${` (or `${~`). */
  | 'interp'
  /** `%{` (or `%{~`). */
  | 'control'
  /** The `}` (or `~}`) closing an `interp` or `control` sequence. */
  | 'seq-end'
  | '{'
  | '}'
  | '['
  | ']'
  | '('
  | ')'
  | '='
  | ','
  | '.'
  | '...'
  | ':'
  | '::'
  | '?'
  | '=>'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '!'

export interface Token {
  readonly type: TokenType
  /** Offset of the first UTF-16 unit in the source. */
  readonly start: number
  /** Offset just past the last one. */
  readonly end: number
  /**
   * `quoted-lit`: the decoded text. `heredoc-lit`: the raw text, after `<<-` trimming. `ident`,
   * `number`: the source text. `oheredoc`: the marker.
   */
  value: string
  /** `interp`/`control`: opened with `~`; `seq-end`: closed with `~`. `oheredoc`: is `<<-`. */
  readonly flag: boolean
}

/** A problem the scanner found, located at a source offset. */
export interface LexDiagnostic {
  readonly offset: number
  readonly message: string
}

export interface LexResult {
  readonly tokens: readonly Token[]
  readonly diagnostics: readonly LexDiagnostic[]
}

/**
 * How deep `${…}` and `%{…}` sequences may nest inside strings inside sequences: far more than
 * any configuration needs, and few enough that the recursive scanner stays well within the stack.
 */
export const MAX_TEMPLATE_NESTING = 64

/** Punctuation, longest first so `==` wins over `=`. */
const PUNCTUATION: readonly TokenType[] = [
  '...',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '=>',
  '::',
  '{',
  '}',
  '[',
  ']',
  '(',
  ')',
  '=',
  ',',
  '.',
  ':',
  '?',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '!',
]

const IDENT_START = /[\p{ID_Start}_]/u
const IDENT_CONTINUE = /[\p{ID_Continue}-]/u
const NUMBER = /[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y
const HEREDOC_OPEN = /<<(-?)([\p{ID_Start}_][\p{ID_Continue}-]*)\r?\n/uy

/** Splits `text` into tokens; never throws: what it cannot read becomes a diagnostic. */
export function lex(text: string): LexResult {
  const lexer = new Lexer(text)
  lexer.lexSequence(false)
  lexer.emit('eof', text.length, text.length)
  return { tokens: lexer.tokens, diagnostics: lexer.diagnostics }
}

class Lexer {
  readonly tokens: Token[] = []
  readonly diagnostics: LexDiagnostic[] = []
  private pos = 0
  /** How many template sequences enclose `pos`. */
  private sequenceDepth = 0
  private readonly text: string

  constructor(text: string) {
    this.text = text
    // A byte order mark, which some editors write first, is not part of the text (as in hcl2json).
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1
  }

  emit(type: TokenType, start: number, end: number, value = '', flag = false): Token {
    const token: Token = { type, start, end, value, flag }
    this.tokens.push(token)
    return token
  }

  private report(offset: number, message: string): void {
    this.diagnostics.push({ offset, message })
  }

  /**
   * Tokens of ordinary syntax until the end of the text or, inside a template sequence
   * (`insideSequence`), until the `}` that closes it, which is emitted as `seq-end`.
   */
  lexSequence(insideSequence: boolean): void {
    const text = this.text
    let braceDepth = 0
    while (this.pos < text.length) {
      const start = this.pos
      const char = text[start] as string
      if (char === ' ' || char === '\t' || (char === '\r' && text[start + 1] === '\n')) {
        this.pos++
        continue
      }
      if (char === '\n') {
        this.emit('newline', start, ++this.pos)
        continue
      }
      if (char === '#' || text.startsWith('//', start)) {
        // A line comment ends before its newline, which stays a token: it ends the line's item.
        const newline = text.indexOf('\n', start)
        this.pos = newline === -1 ? text.length : newline
        if (text[this.pos - 1] === '\r') this.pos--
        continue
      }
      if (text.startsWith('/*', start)) {
        const close = text.indexOf('*/', start + 2)
        if (close === -1) {
          this.report(start, 'unterminated comment: found "/*" with no "*/" after it')
          this.emit('invalid', start, text.length)
          this.pos = text.length
          return
        }
        this.pos = close + 2
        continue
      }
      if (insideSequence) {
        if (char === '~' && text[start + 1] === '}' && braceDepth === 0) {
          this.pos += 2
          this.emit('seq-end', start, this.pos, '', true)
          return
        }
        if (char === '}' && braceDepth === 0) {
          this.pos++
          this.emit('seq-end', start, this.pos)
          return
        }
        if (char === '{') braceDepth++
        if (char === '}') braceDepth--
      }
      if (char === '"') {
        this.lexQuotedTemplate()
        continue
      }
      if (char === '<' && text[start + 1] === '<') {
        HEREDOC_OPEN.lastIndex = start
        const open = HEREDOC_OPEN.exec(text)
        if (open !== null) {
          this.pos = HEREDOC_OPEN.lastIndex
          this.emit('oheredoc', start, this.pos, open[2], open[1] === '-')
          this.lexHeredoc(open[2] as string, open[1] === '-')
          continue
        }
      }
      if (char >= '0' && char <= '9') {
        NUMBER.lastIndex = start
        NUMBER.exec(text)
        this.pos = NUMBER.lastIndex
        this.emit('number', start, this.pos, text.slice(start, this.pos))
        continue
      }
      const codePoint = String.fromCodePoint(text.codePointAt(start) as number)
      if (IDENT_START.test(codePoint)) {
        this.pos += codePoint.length
        while (this.pos < text.length) {
          const next = String.fromCodePoint(text.codePointAt(this.pos) as number)
          if (!IDENT_CONTINUE.test(next)) break
          this.pos += next.length
        }
        this.emit('ident', start, this.pos, text.slice(start, this.pos))
        continue
      }
      const punctuation = PUNCTUATION.find((candidate) => text.startsWith(candidate, start))
      if (punctuation !== undefined) {
        this.pos += punctuation.length
        this.emit(punctuation, start, this.pos)
        continue
      }
      this.pos += codePoint.length
      this.report(start, invalidCharacterMessage(codePoint))
      this.emit('invalid', start, this.pos)
    }
  }

  /** A `"…"` template; the opening quote is at `pos`. It ends at its closing quote or line. */
  private lexQuotedTemplate(): void {
    const text = this.text
    this.emit('oquote', this.pos, ++this.pos)
    let literalStart = this.pos
    let literal = ''
    const flushLiteral = (): void => {
      if (this.pos > literalStart) this.emit('quoted-lit', literalStart, this.pos, literal)
      literal = ''
    }
    while (this.pos < text.length) {
      const char = text[this.pos] as string
      if (char === '"') {
        flushLiteral()
        this.emit('cquote', this.pos, ++this.pos)
        return
      }
      if (char === '\n' || (char === '\r' && text[this.pos + 1] === '\n')) {
        flushLiteral()
        this.report(
          this.pos,
          'a quoted string cannot span lines: found a newline before its closing quote; ' +
            'write \\n for a newline, or use a heredoc (<<EOF) for text of several lines',
        )
        return
      }
      if (this.startsSequence()) {
        flushLiteral()
        this.lexTemplateSequence()
        literalStart = this.pos
        continue
      }
      if (char === '\\') {
        literal += this.decodeEscape()
        continue
      }
      if ((char === '$' || char === '%') && text[this.pos + 1] === char && text[this.pos + 2] === '{') {
        literal += `${char}{`
        this.pos += 3
        continue
      }
      const codePoint = String.fromCodePoint(text.codePointAt(this.pos) as number)
      literal += codePoint
      this.pos += codePoint.length
    }
    flushLiteral()
  }

  /** One `\…` escape of a quoted string, at `pos`; an invalid one is reported and kept as is. */
  private decodeEscape(): string {
    const text = this.text
    const start = this.pos
    const selector = text[start + 1]
    const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' }
    if (selector !== undefined && selector in simple) {
      this.pos += 2
      return simple[selector] as string
    }
    if (selector === 'u' || selector === 'U') {
      const length = selector === 'u' ? 4 : 8
      const digits = text.slice(start + 2, start + 2 + length)
      const codePoint = Number.parseInt(digits, 16)
      if (digits.length === length && /^[0-9a-fA-F]+$/.test(digits)) {
        this.pos += 2 + length
        if (codePoint <= 0x10ffff && (codePoint < 0xd800 || codePoint > 0xdfff)) {
          return String.fromCodePoint(codePoint)
        }
        this.report(start, `invalid escape sequence \\${selector}${digits}: not a Unicode character`)
        return ''
      }
      this.pos += 2
      this.report(
        start,
        `invalid escape sequence: \\${selector} must be followed by ${length} hexadecimal digits`,
      )
      return ''
    }
    if (selector === undefined || selector === '\n' || selector === '\r') {
      this.pos += 1
      this.report(start, 'invalid escape sequence: a backslash at the end of a line')
      return ''
    }
    const shown = String.fromCodePoint(text.codePointAt(start + 1) as number)
    this.pos += 1 + shown.length
    this.report(
      start,
      `invalid escape sequence \\${shown}; expected one of \\n \\r \\t \\" \\\\ \\uNNNN \\UNNNNNNNN ` +
        '(write $${ and %%{ for a literal ${ and %{)',
    )
    return ''
  }

  /** Whether `pos` is at `${` or `%{`. */
  private startsSequence(): boolean {
    const char = this.text[this.pos]
    return (char === '$' || char === '%') && this.text[this.pos + 1] === '{'
  }

  /** A `${…}` or `%{…}` sequence at `pos`: its opening token, its tokens and its `seq-end`. */
  private lexTemplateSequence(): void {
    const start = this.pos
    const strip = this.text[start + 2] === '~'
    this.pos += strip ? 3 : 2
    this.emit(this.text[start] === '$' ? 'interp' : 'control', start, this.pos, '', strip)
    if (this.sequenceDepth === MAX_TEMPLATE_NESTING) {
      this.report(start, `template sequences ("\${" and "%{") nested more than ${MAX_TEMPLATE_NESTING} deep`)
      this.emit('invalid', start, this.text.length)
      this.pos = this.text.length
      return
    }
    this.sequenceDepth++
    this.lexSequence(true)
    this.sequenceDepth--
  }

  /**
   * A heredoc's lines after its opening line, up to the line holding only `marker` (indentation
   * allowed) and a newline. Without that line the heredoc is left unclosed for the parser to
   * report.
   */
  private lexHeredoc(marker: string, flush: boolean): void {
    const text = this.text
    const literals: { token: Token; lineStart: boolean }[] = []
    /** Lines that begin with a `${`/`%{` sequence: for `<<-`, they have no indentation. */
    let sequenceAtLineStart = false
    let atLineStart = true
    while (this.pos < text.length) {
      if (atLineStart) {
        const lineEnd = text.indexOf('\n', this.pos)
        if (lineEnd !== -1) {
          const line = text.slice(this.pos, lineEnd).replace(/\r$/, '')
          if (line.replace(/^[ \t]+|[ \t]+$/g, '') === marker) {
            if (flush) trimHeredocIndentation(literals, sequenceAtLineStart)
            for (const { token } of literals) token.value = token.value.replace(/([$%])\1\{/g, '$1{')
            this.emit('cheredoc', this.pos, lineEnd)
            this.pos = lineEnd
            return
          }
        }
      }
      const start = this.pos
      if (this.startsSequence()) {
        if (atLineStart) sequenceAtLineStart = true
        this.lexTemplateSequence()
        atLineStart = false
        continue
      }
      while (this.pos < text.length && text[this.pos] !== '\n' && !this.startsSequence()) {
        this.pos += text[this.pos] === text[this.pos + 1] && text[this.pos + 2] === '{' ? 3 : 1
      }
      if (text[this.pos] === '\n') this.pos++
      const raw = text.slice(start, this.pos)
      literals.push({ token: this.emit('heredoc-lit', start, this.pos, raw), lineStart: atLineStart })
      atLineStart = raw.endsWith('\n')
    }
  }
}

/** Go's `unicode.IsSpace`, which HCL's `<<-` uses to measure indentation. */
const LEADING_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*/u

/**
 * HCL's `<<-` rule: find the line with the least leading white space (lines of only white space
 * do not count) and remove that many characters from the start of every counted line. It works
 * on the literal text at the start of each line, so a line that starts with `${…}` has none.
 */
function trimHeredocIndentation(
  literals: readonly { token: Token; lineStart: boolean }[],
  sequenceAtLineStart: boolean,
): void {
  let minimum = sequenceAtLineStart ? 0 : Number.POSITIVE_INFINITY
  const counted: Token[] = []
  for (const { token, lineStart } of literals) {
    if (!lineStart) continue
    const spaces = (LEADING_SPACE.exec(token.value)?.[0] ?? '').replace(/\n$/, '')
    if (spaces.length === token.value.replace(/\n$/, '').length && token.value.endsWith('\n')) continue
    minimum = Math.min(minimum, [...spaces].length)
    counted.push(token)
  }
  if (!Number.isFinite(minimum) || minimum === 0) return
  for (const token of counted) {
    token.value = [...token.value].slice(minimum).join('')
  }
}

function invalidCharacterMessage(character: string): string {
  if (character === "'") return 'invalid character "\'": strings are enclosed in double quotes (")'
  if (character === '&' || character === '|') {
    return `invalid character "${character}": HCL has no bitwise operators (did you mean "${character}${character}"?)`
  }
  if (character === ';') return 'invalid character ";": an argument ends with a newline, not a semicolon'
  const code = character.codePointAt(0) ?? 0
  const shown =
    code < 0x20 || code === 0x7f ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}` : character
  return `invalid character "${shown}": it is not part of HCL's syntax here`
}
