/**
 * What the parser makes of an HCL file: only as much structure as `@cdktf/hcl2json`'s output
 * needs. Expressions it does not evaluate (references, calls, operators…) keep only their source
 * span, because they come out as their source text.
 */

/** A source span, as UTF-16 offsets. */
export interface Span {
  readonly start: number
  readonly end: number
}

export type Expression =
  | LiteralExpression
  | TemplateExpression
  | TupleExpression
  | ObjectExpression
  | UnaryExpression
  | OpaqueExpression

/** A number, `true`, `false` or `null`. */
export interface LiteralExpression extends Span {
  readonly kind: 'literal'
  readonly value: number | boolean | null
}

/** A quoted string or heredoc. */
export interface TemplateExpression extends Span {
  readonly kind: 'template'
  readonly parts: readonly TemplatePart[]
}

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'interpolation'; readonly expression: Expression }
  | {
      readonly kind: 'if'
      readonly condition: Expression
      readonly then: readonly TemplatePart[]
      readonly else: readonly TemplatePart[]
    }
  | {
      readonly kind: 'for'
      readonly keyName: string | undefined
      readonly valueName: string
      readonly collection: Expression
      readonly body: readonly TemplatePart[]
    }

/** `[a, b]`. */
export interface TupleExpression extends Span {
  readonly kind: 'tuple'
  readonly items: readonly Expression[]
}

/** `{ k = v, "k2" : v }`. */
export interface ObjectExpression extends Span {
  readonly kind: 'object'
  readonly items: readonly { readonly key: Expression; readonly value: Expression }[]
}

/** `-x` or `!x`. */
export interface UnaryExpression extends Span {
  readonly kind: 'unary'
  readonly operator: '-' | '!'
  readonly operand: Expression
}

/**
 * Any other expression. `traversal` marks a plain reference (`a.b[0]`), which as an object key
 * stands for its own text.
 */
export interface OpaqueExpression extends Span {
  readonly kind: 'opaque'
  readonly traversal: boolean
  /**
   * `cond ? a : b`: inside a template, `@cdktf/hcl2json` writes it back as an `%{if}` directive,
   * so its parts are kept.
   */
  readonly conditional?: {
    readonly condition: Expression
    readonly then: Expression
    readonly else: Expression
  }
}

/** `name = expression`. */
export interface Attribute {
  readonly name: string
  readonly nameSpan: Span
  readonly expression: Expression
}

/** `type "label" … { body }`. */
export interface Block {
  readonly type: string
  readonly typeSpan: Span
  readonly labels: readonly string[]
  readonly body: Body
}

export interface Body {
  readonly attributes: readonly Attribute[]
  readonly blocks: readonly Block[]
}
