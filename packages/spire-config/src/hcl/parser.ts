import { type LexDiagnostic, lex, type Token, type TokenType } from './lexer.ts'
import { lineAndColumn } from './line-and-column.ts'
import type {
  Attribute,
  Block,
  Body,
  Expression,
  OpaqueExpression,
  Span,
  TemplatePart,
} from './syntax-tree.ts'

/** A syntax error at a source offset. */
export class HclSyntaxError extends Error {
  override readonly name = 'HclSyntaxError'
  /** Where the problem starts, as a UTF-16 offset into the text. */
  readonly offset: number

  constructor(offset: number, message: string) {
    super(message)
    this.offset = offset
  }
}

/** The syntax tree of a file, or every problem found while reading it. */
export type ParseResult =
  | { readonly ok: true; readonly body: Body }
  | { readonly ok: false; readonly diagnostics: readonly LexDiagnostic[] }

/**
 * Parses HCL's native syntax with HashiCorp's grammar (`hclsyntax`): the same files are accepted
 * and refused. Like `hclsyntax`, it reports every problem of the scanner but only the first of
 * the grammar, since what follows a grammar error is usually its echo.
 */
export function parseHcl(text: string): ParseResult {
  const { tokens, diagnostics } = lex(text)
  try {
    const body = new Parser(text, tokens).parseFile()
    if (diagnostics.length === 0) return { ok: true, body }
    return { ok: false, diagnostics }
  } catch (error) {
    if (!(error instanceof HclSyntaxError)) throw error
    // A grammar error on a token the scanner already refused says nothing new.
    const echoed = diagnostics.some((diagnostic) => diagnostic.offset === error.offset)
    return {
      ok: false,
      diagnostics: echoed ? diagnostics : [...diagnostics, { offset: error.offset, message: error.message }],
    }
  }
}

/** How messages name a token that was not expected. */
function describe(token: Token, text: string): string {
  switch (token.type) {
    case 'eof':
      return 'the end of the file'
    case 'newline':
      return 'the end of the line'
    case 'oquote':
      return 'a quoted string'
    case 'oheredoc':
      return 'a heredoc'
    case 'ident':
      return `"${token.value}"`
    case 'number':
      return `the number ${token.value}`
    default:
      return `"${text.slice(token.start, token.end)}"`
  }
}

/**
 * How deep lists, objects, parentheses, operators, blocks and templates may nest: far more than
 * any configuration needs, and few enough that the recursive parser stays well within the stack.
 */
export const MAX_NESTING = 64

const BINARY_OPERATORS: readonly (readonly TokenType[])[] = [
  ['||'],
  ['&&'],
  ['==', '!='],
  ['<', '>', '<=', '>='],
  ['+', '-'],
  ['*', '/', '%'],
]

class Parser {
  private index = 0
  /** How many nested constructs enclose the parser's position. */
  private depth = 0
  /**
   * Whether newlines are tokens where the parser stands: they end items in bodies and objects,
   * and are plain white space inside brackets, parentheses and template sequences.
   */
  private readonly newlines: boolean[] = [true]
  private readonly text: string
  private readonly tokens: readonly Token[]

  constructor(text: string, tokens: readonly Token[]) {
    this.text = text
    this.tokens = tokens
  }

  parseFile(): Body {
    return this.parseBody(undefined)
  }

  // --- tokens -------------------------------------------------------------------------------

  private peek(): Token {
    if (this.newlines[this.newlines.length - 1] === false) {
      while (this.tokens[this.index]?.type === 'newline') this.index++
    }
    return this.tokens[this.index] as Token
  }

  private read(): Token {
    const token = this.peek()
    if (token.type !== 'eof') this.index++
    return token
  }

  private fail(at: Token | Span, message: string): never {
    throw new HclSyntaxError(at.start, message)
  }

  private expect(type: TokenType, expected: string): Token {
    const token = this.peek()
    if (token.type !== type) this.fail(token, `expected ${expected}; found ${describe(token, this.text)}`)
    return this.read()
  }

  private withNewlines<T>(significant: boolean, parse: () => T): T {
    this.newlines.push(significant)
    try {
      return parse()
    } finally {
      this.newlines.pop()
    }
  }

  /** Runs `parse` one nesting level deeper, refusing to go past {@link MAX_NESTING}. */
  private nested<T>(at: Token, parse: () => T): T {
    if (this.depth === MAX_NESTING) {
      this.fail(
        at,
        `nested more than ${MAX_NESTING} levels deep (lists, objects, parentheses, blocks or templates)`,
      )
    }
    this.depth++
    try {
      return parse()
    } finally {
      this.depth--
    }
  }

  // --- bodies -------------------------------------------------------------------------------

  /** Items up to the end of the file, or (inside the block opened by `open`) its `}`. */
  private parseBody(open: Token | undefined): Body {
    const attributes: Attribute[] = []
    const blocks: Block[] = []
    const seen = new Map<string, Span>()
    for (;;) {
      const token = this.peek()
      if (token.type === 'newline') {
        this.read()
        continue
      }
      if (token.type === 'eof') {
        if (open === undefined) break
        this.fail(open, 'unclosed block: this "{" has no matching "}" before the end of the file')
      }
      if (token.type === '}' && open !== undefined) break
      if (token.type === 'oquote') {
        this.fail(token, 'invalid argument name: argument names and block types are not quoted')
      }
      if (token.type !== 'ident') {
        this.fail(token, `expected an argument or a block; found ${describe(token, this.text)}`)
      }
      const item = this.parseBodyItem()
      if ('expression' in item) {
        const previous = seen.get(item.name)
        if (previous !== undefined) {
          this.fail(
            item.nameSpan,
            `argument "${item.name}" is set twice (first at ${lineAndColumn(this.text, previous.start)}); ` +
              'each argument may be set only once',
          )
        }
        seen.set(item.name, item.nameSpan)
        attributes.push(item)
      } else {
        blocks.push(item)
      }
    }
    return { attributes, blocks }
  }

  private parseBodyItem(): Attribute | Block {
    const name = this.read()
    const next = this.peek()
    if (next.type === '=') {
      this.read()
      const attribute = this.finishAttribute(name)
      this.expectLineEnd('an argument')
      return attribute
    }
    if (next.type === 'oquote' || next.type === 'ident' || next.type === '{') return this.finishBlock(name)
    return this.fail(
      next,
      `expected "=" after the argument name "${name.value}", or a label or "{" to start a block; ` +
        `found ${describe(next, this.text)}`,
    )
  }

  private finishAttribute(name: Token): Attribute {
    return {
      name: name.value,
      nameSpan: { start: name.start, end: name.end },
      expression: this.parseExpression(),
    }
  }

  private expectLineEnd(what: string): void {
    const end = this.peek()
    if (end.type !== 'newline' && end.type !== 'eof') {
      this.fail(end, `expected the end of the line after ${what}; found ${describe(end, this.text)}`)
    }
    this.read()
  }

  private finishBlock(type: Token): Block {
    return this.nested(type, () => this.finishBlockNested(type))
  }

  private finishBlockNested(type: Token): Block {
    const labels: string[] = []
    for (;;) {
      const token = this.peek()
      if (token.type === '{') break
      if (token.type === 'ident') {
        labels.push(this.read().value)
        continue
      }
      if (token.type === 'oquote') {
        labels.push(this.parseLabel())
        continue
      }
      if (token.type === '=') {
        this.fail(
          token,
          `block "${type.value}" has a label, so "=" is not allowed: a block is opened with "{"`,
        )
      }
      if (token.type === 'newline') {
        this.fail(token, `the "{" of block "${type.value}" must be on the same line as its type and labels`)
      }
      this.fail(
        token,
        `expected a quoted label or "{" in block "${type.value}"; found ${describe(token, this.text)}`,
      )
    }
    const open = this.read()
    const body = this.peek().type === 'newline' ? this.parseBody(open) : this.parseSingleLineBody()
    this.expect('}', `"}" closing block "${type.value}"`)
    this.expectLineEnd(`the block "${type.value}"`)
    return { type: type.value, typeSpan: { start: type.start, end: type.end }, labels, body }
  }

  /** `{ }` or `{ name = value }` on one line, as HCL allows for a block. */
  private parseSingleLineBody(): Body {
    const token = this.peek()
    if (token.type === '}') return { attributes: [], blocks: [] }
    if (token.type !== 'ident') {
      this.fail(
        token,
        `expected an argument or "}" in a single-line block; found ${describe(token, this.text)}`,
      )
    }
    const name = this.read()
    if (this.peek().type !== '=') {
      this.fail(
        this.peek(),
        'a single-line block can hold only one argument ("{ name = value }"); to nest block ' +
          `"${name.value}", open its parent with "{" at the end of a line and put it on a line of its own`,
      )
    }
    this.read()
    const attribute = this.finishAttribute(name)
    const end = this.peek()
    if (end.type === 'newline') {
      this.fail(end, 'a single-line block must be closed on the line of its argument; expected "}"')
    }
    if (end.type !== '}') {
      this.fail(
        end,
        `a single-line block holds one argument and then "}"; found ${describe(end, this.text)}. ` +
          'For several arguments, put each on a line of its own',
      )
    }
    return { attributes: [attribute], blocks: [] }
  }

  /** A block label: a quoted string without `${…}` or `%{…}`. */
  private parseLabel(): string {
    this.read()
    let label = ''
    for (;;) {
      const token = this.tokens[this.index] as Token
      if (token.type === 'quoted-lit') {
        label += token.value
        this.index++
        continue
      }
      if (token.type === 'cquote') {
        this.index++
        return label
      }
      if (token.type === 'interp' || token.type === 'control') {
        this.fail(
          token,
          'a block label is a literal string: "${" and "%{" are not allowed (write $${ or %%{)',
        )
      }
      this.fail(token, 'unterminated string: expected a closing quote (")')
    }
  }

  // --- expressions --------------------------------------------------------------------------

  private parseExpression(): Expression {
    const condition = this.parseBinary(0)
    if (this.peek().type !== '?') return condition
    this.read()
    const then = this.parseExpression()
    this.expect(':', 'the ":" of a conditional expression (cond ? a : b)')
    const otherwise = this.parseExpression()
    return { ...this.opaque(condition, otherwise), conditional: { condition, then, else: otherwise } }
  }

  private opaque(first: Span, last: Span, traversal = false): OpaqueExpression {
    return { kind: 'opaque', start: first.start, end: last.end, traversal }
  }

  private parseBinary(level: number): Expression {
    const operators = BINARY_OPERATORS[level]
    if (operators === undefined) return this.parseWithTraversals()
    let left = this.parseBinary(level + 1)
    while (operators.includes(this.peek().type)) {
      this.read()
      const right = this.parseBinary(level + 1)
      left = this.opaque(left, right)
    }
    return left
  }

  /** A term and its `.attr`, `[index]`, `.*` and `[*]` steps. */
  private parseWithTraversals(): Expression {
    let expression = this.parseTerm()
    for (;;) {
      const token = this.peek()
      if (token.type === '.') {
        this.read()
        const step = this.peek()
        if (step.type !== 'ident' && step.type !== 'number' && step.type !== '*') {
          this.fail(step, `expected an attribute name after "."; found ${describe(step, this.text)}`)
        }
        const end = this.read()
        const traversal =
          expression.kind === 'opaque' &&
          expression.traversal &&
          (step.type !== 'number' || /^\d+$/.test(step.value))
        expression = this.opaque(expression, end, traversal && step.type !== '*')
        continue
      }
      if (token.type === '[') {
        this.read()
        const literalIndex = this.withNewlines(false, () => {
          if (this.peek().type === '*') {
            this.read()
            return false
          }
          const index = this.parseExpression()
          return index.kind === 'literal' || (index.kind === 'template' && isPlainText(index.parts))
        })
        const close = this.withNewlines(false, () => this.expect(']', 'the "]" closing an index'))
        const traversal = expression.kind === 'opaque' && expression.traversal && literalIndex
        expression = this.opaque(expression, close, traversal)
        continue
      }
      return expression
    }
  }

  private parseTerm(): Expression {
    return this.nested(this.peek(), () => this.parseTermNested())
  }

  private parseTermNested(): Expression {
    const token = this.peek()
    switch (token.type) {
      case 'number': {
        this.read()
        return { kind: 'literal', start: token.start, end: token.end, value: Number(token.value) }
      }
      case 'ident':
        return this.parseIdentifierTerm()
      case 'oquote':
      case 'oheredoc':
        return this.parseTemplate()
      case '-':
      case '!': {
        this.read()
        const operand = this.parseWithTraversals()
        return { kind: 'unary', operator: token.type, operand, start: token.start, end: operand.end }
      }
      case '(': {
        this.read()
        const close = this.withNewlines(false, () => {
          this.parseExpression()
          return this.expect(')', 'the ")" closing a parenthesis')
        })
        return this.opaque(token, close)
      }
      case '[':
        return this.parseTuple()
      case '{':
        return this.parseObject()
      default:
        return this.fail(token, `expected an expression (a value); found ${describe(token, this.text)}`)
    }
  }

  /** `true`, `false`, `null`, a reference, or a function call `f(…)` / `ns::f(…)`. */
  private parseIdentifierTerm(): Expression {
    const name = this.read()
    if (name.value === 'true' || name.value === 'false' || name.value === 'null') {
      const value = name.value === 'null' ? null : name.value === 'true'
      return { kind: 'literal', start: name.start, end: name.end, value }
    }
    let namespaced = false
    while (this.peek().type === '::') {
      this.read()
      namespaced = true
      this.expect('ident', 'a function name after "::"')
    }
    if (this.peek().type !== '(') {
      if (namespaced) this.fail(this.peek(), 'expected "(" after a namespaced function name')
      return this.opaque(name, name, true)
    }
    this.read()
    const close = this.withNewlines(false, () => {
      while (this.peek().type !== ')') {
        this.parseExpression()
        if (this.peek().type === '...') {
          this.read()
          if (this.peek().type !== ')') {
            this.fail(this.peek(), 'only the last argument of a function call can be expanded with "..."')
          }
          break
        }
        if (this.peek().type === ',') {
          this.read()
          continue
        }
        if (this.peek().type !== ')') {
          this.fail(
            this.peek(),
            `expected "," or ")" in a function call; found ${describe(this.peek(), this.text)}`,
          )
        }
      }
      return this.read()
    })
    return this.opaque(name, close)
  }

  private isForKeyword(): boolean {
    const token = this.peek()
    return token.type === 'ident' && token.value === 'for'
  }

  private parseTuple(): Expression {
    const open = this.read()
    return this.withNewlines(false, (): Expression => {
      if (this.isForKeyword()) return this.opaque(open, this.parseFor(']'))
      const items: Expression[] = []
      while (this.peek().type !== ']') {
        items.push(this.parseExpression())
        const next = this.peek()
        if (next.type === ',') {
          this.read()
          continue
        }
        if (next.type !== ']') {
          this.fail(next, `expected "," between list items, or "]"; found ${describe(next, this.text)}`)
        }
      }
      const close = this.read()
      return { kind: 'tuple', items, start: open.start, end: close.end }
    })
  }

  private parseObject(): Expression {
    const open = this.read()
    if (this.withNewlines(false, () => this.isForKeyword())) {
      return this.withNewlines(false, () => this.opaque(open, this.parseFor('}')))
    }
    return this.withNewlines(true, (): Expression => {
      const items: { key: Expression; value: Expression }[] = []
      for (;;) {
        const token = this.peek()
        if (token.type === 'newline') {
          this.read()
          continue
        }
        if (token.type === '}') break
        if (token.type === 'eof') this.fail(open, 'unclosed object: this "{" has no matching "}"')
        const key = this.parseExpression()
        const separator = this.peek()
        if (separator.type !== '=' && separator.type !== ':') {
          this.fail(
            separator,
            `expected "=" or ":" after an object key; found ${describe(separator, this.text)}`,
          )
        }
        this.read()
        items.push({ key, value: this.parseExpression() })
        const next = this.peek()
        if (next.type === ',' || next.type === 'newline') {
          this.read()
          continue
        }
        if (next.type !== '}') {
          this.fail(
            next,
            `expected "," or a newline between object items, or "}"; found ${describe(next, this.text)}`,
          )
        }
      }
      const close = this.read()
      return { kind: 'object', items, start: open.start, end: close.end }
    })
  }

  /** `for k, v in coll : expr if cond` up to `close`, which it consumes; newlines are white space. */
  private parseFor(close: ']' | '}'): Token {
    this.read()
    this.expect('ident', 'a variable name after "for"')
    if (this.peek().type === ',') {
      this.read()
      this.expect('ident', 'a second variable name after ","')
    }
    const keyword = this.peek()
    if (keyword.type !== 'ident' || keyword.value !== 'in') {
      this.fail(keyword, `expected "in" in a for expression; found ${describe(keyword, this.text)}`)
    }
    this.read()
    this.parseExpression()
    this.expect(':', 'the ":" of a for expression')
    this.parseExpression()
    if (close === '}') {
      this.expect('=>', 'the "=>" between key and value of an object for expression')
      this.parseExpression()
      if (this.peek().type === '...') this.read()
    }
    const condition = this.peek()
    if (condition.type === 'ident' && condition.value === 'if') {
      this.read()
      this.parseExpression()
    }
    return this.expect(close, `the "${close}" closing a for expression`)
  }

  // --- templates ----------------------------------------------------------------------------

  private parseTemplate(): Expression {
    const open = this.read()
    const heredoc = open.type === 'oheredoc'
    const parts = this.parseTemplateParts(undefined)
    const close = this.tokens[this.index] as Token
    if (close.type !== (heredoc ? 'cheredoc' : 'cquote')) {
      this.fail(
        close,
        heredoc
          ? `unterminated heredoc: no line "${open.value}" closes the heredoc opened at ${lineAndColumn(this.text, open.start)}`
          : `unterminated string: expected a closing quote (") for the string opened at ${lineAndColumn(this.text, open.start)}`,
      )
    }
    this.index++
    return { kind: 'template', parts, start: open.start, end: close.end }
  }

  /**
   * Literal text, `${…}` and `%{…}` directives up to the end of the template or to a directive
   * in `stopAt` (which is left unread).
   */
  private parseTemplateParts(stopAt: readonly string[] | undefined): TemplatePart[] {
    return this.nested(this.tokens[this.index] as Token, () => this.parseTemplatePartsNested(stopAt))
  }

  private parseTemplatePartsNested(stopAt: readonly string[] | undefined): TemplatePart[] {
    const parts: TemplatePart[] = []
    let stripNext = false
    const strip = (): void => {
      const last = parts[parts.length - 1]
      if (last?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: last.text.trimEnd() }
    }
    for (;;) {
      const token = this.tokens[this.index] as Token
      if (token.type === 'quoted-lit' || token.type === 'heredoc-lit') {
        this.index++
        const text = stripNext ? token.value.trimStart() : token.value
        stripNext = false
        parts.push({ kind: 'text', text })
        continue
      }
      if (token.type === 'interp') {
        this.index++
        if (token.flag) strip()
        const expression = this.withNewlines(false, () => this.parseExpression())
        stripNext = this.endSequence('the "}" closing "${"')
        parts.push({ kind: 'interpolation', expression })
        continue
      }
      if (token.type !== 'control') return parts
      const keyword = this.tokens[this.index + 1] as Token
      if (keyword.type === 'ident' && stopAt?.includes(keyword.value)) return parts
      this.index += 2
      if (token.flag) strip()
      if (keyword.type === 'ident' && keyword.value === 'if') {
        const condition = this.withNewlines(false, () => this.parseExpression())
        this.endSequence('the "}" closing "%{if"')
        const then = this.parseTemplateParts(['else', 'endif'])
        let otherwise: TemplatePart[] = []
        if (this.directive('else')) {
          this.endSequence('the "}" closing "%{else"')
          otherwise = this.parseTemplateParts(['endif'])
        }
        if (!this.directive('endif')) this.missingDirective('endif', token)
        stripNext = this.endSequence('the "}" closing "%{endif"')
        parts.push({ kind: 'if', condition, then, else: otherwise })
        continue
      }
      if (keyword.type === 'ident' && keyword.value === 'for') {
        const { keyName, valueName, collection } = this.withNewlines(false, () => {
          const first = this.expect('ident', 'a variable name after "%{for"').value
          let second: string | undefined
          if (this.peek().type === ',') {
            this.read()
            second = this.expect('ident', 'a second variable name after ","').value
          }
          const inKeyword = this.peek()
          if (inKeyword.type !== 'ident' || inKeyword.value !== 'in') {
            this.fail(
              inKeyword,
              `expected "in" in a "%{for" directive; found ${describe(inKeyword, this.text)}`,
            )
          }
          this.read()
          return {
            keyName: second === undefined ? undefined : first,
            valueName: second ?? first,
            collection: this.parseExpression(),
          }
        })
        this.endSequence('the "}" closing "%{for"')
        const body = this.parseTemplateParts(['endfor'])
        if (!this.directive('endfor')) this.missingDirective('endfor', token)
        stripNext = this.endSequence('the "}" closing "%{endfor"')
        parts.push({ kind: 'for', keyName, valueName, collection, body })
        continue
      }
      this.fail(
        keyword,
        keyword.type === 'ident' && ['else', 'endif', 'endfor'].includes(keyword.value)
          ? `"%{${keyword.value}}" without the "%{if" or "%{for" it closes`
          : `expected "if" or "for" after "%{"; found ${describe(keyword, this.text)}`,
      )
    }
  }

  /** Reads `%{name` if it is next. */
  private directive(name: string): boolean {
    const token = this.tokens[this.index] as Token
    const keyword = this.tokens[this.index + 1] as Token
    if (token.type !== 'control' || keyword.type !== 'ident' || keyword.value !== name) return false
    this.index += 2
    return true
  }

  private missingDirective(name: string, opener: Token): never {
    return this.fail(
      this.tokens[this.index] as Token,
      `expected "%{${name}}" closing the directive opened at ${lineAndColumn(this.text, opener.start)}`,
    )
  }

  /** The `}` of a template sequence; whether it was `~}`. */
  private endSequence(expected: string): boolean {
    const token = this.withNewlines(false, () => this.peek())
    if (token.type !== 'seq-end')
      this.fail(token, `expected ${expected}; found ${describe(token, this.text)}`)
    this.index++
    return token.flag
  }
}

/** Whether template parts are all literal text. */
export function isPlainText(parts: readonly TemplatePart[]): boolean {
  return parts.every((part) => part.kind === 'text')
}
