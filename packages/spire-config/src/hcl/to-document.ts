import { lineAndColumn } from './line-and-column.ts'
import { HclSyntaxError } from './parser.ts'
import type { Block, Body, Expression, TemplatePart } from './syntax-tree.ts'

/**
 * Turns a syntax tree into JSON the way `@cdktf/hcl2json` does (its Go `convert` package), so
 * callers see the same document whichever parser produced it:
 *
 * - keys sorted, as Go writes a map;
 * - blocks first, in order: `name { … }` → `name: [{ … }]`, `Type "a" "b" { … }` →
 *   `Type: { a: { b: [{ … }] } }`; blocks of one type with different numbers of labels are refused;
 * - then attributes, which replace a block of the same name;
 * - literals as JSON values, `-`/`!` applied to a literal, numbers too large for JSON as `null`;
 * - strings with `${` and `%{` escaped as `$${` and `%%{` (the JSON form is itself a template),
 *   a template that is a single `${x}` as the value of `x`, other templates as their text;
 * - anything else as `"${<source text>}"`.
 *
 * @throws {HclSyntaxError} for what `hcl2json` refuses after parsing: mixed block labels, and an
 *   operator applied to a literal of the wrong type (`-true`, `!1`).
 */
export function toDocument(body: Body, text: string): Record<string, unknown> {
  return withSortedKeys(new Converter(text).body(body)) as Record<string, unknown>
}

/**
 * `value` with the keys of every object in the order Go's `encoding/json` writes a map: sorted
 * by their UTF-8 bytes. Readers that list labels or map entries rely on that order.
 */
function withSortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSortedKeys)
  if (typeof value !== 'object' || value === null) return value
  const sorted: Record<string, unknown> = {}
  const keys = Object.keys(value).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  for (const key of keys) setOwn(sorted, key, withSortedKeys((value as Record<string, unknown>)[key]))
  return sorted
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true })
}

function getOwn(target: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined
}

/** A literal template text, escaped so that it stays literal when read as a template again. */
function escapeTemplateText(text: string): string {
  return text.replace(/([$%])\{/g, '$1$1{')
}

/** A number as Go's `cty` writes it into a string: in full, never in exponent notation. */
function numberText(value: number): string {
  if (Number.isInteger(value)) return BigInt(value).toString()
  const text = String(value)
  return text.includes('e') ? value.toFixed(20).replace(/0+$/, '') : text
}

class Converter {
  private readonly text: string

  constructor(text: string) {
    this.text = text
  }

  body(body: Body): Record<string, unknown> {
    const document: Record<string, unknown> = {}
    for (const block of body.blocks) this.placeBlock(document, block)
    for (const attribute of body.attributes)
      setOwn(document, attribute.name, this.value(attribute.expression))
    return document
  }

  private placeBlock(document: Record<string, unknown>, block: Block): void {
    const content = this.body(block.body)
    const mixedLabels = (): never => {
      throw new HclSyntaxError(
        block.typeSpan.start,
        `block "${block.type}" has ${block.labels.length} label(s), but an earlier "${block.type}" block ` +
          'has a different number; blocks of one type must all have the same number of labels',
      )
    }
    let container = document
    let key = block.type
    for (const label of block.labels) {
      const inner = getOwn(container, key)
      if (inner === undefined) {
        const created: Record<string, unknown> = {}
        setOwn(container, key, created)
        container = created
      } else if (typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
        container = inner as Record<string, unknown>
      } else {
        mixedLabels()
      }
      key = label
    }
    const existing = getOwn(container, key)
    if (existing === undefined) setOwn(container, key, [content])
    else if (Array.isArray(existing)) existing.push(content)
    else mixedLabels()
  }

  private source(expression: Expression): string {
    return this.text.slice(expression.start, expression.end)
  }

  private wrapped(expression: Expression): string {
    return `\${${this.source(expression)}}`
  }

  /** `convertExpression`: the JSON value of an attribute, list item or object value. */
  value(expression: Expression): unknown {
    switch (expression.kind) {
      case 'literal':
        return typeof expression.value === 'number' && !Number.isFinite(expression.value)
          ? null
          : expression.value
      case 'template': {
        const [only] = expression.parts
        if (expression.parts.length === 1 && only?.kind === 'interpolation')
          return this.value(only.expression)
        return this.templateText(expression.parts)
      }
      case 'tuple':
        return expression.items.map((item) => this.value(item))
      case 'object': {
        // HCL (and so hcl2json) lets the last of two equal keys win. Refused here, as two equal
        // arguments of a body are: in `clusters = { "demo" = {…} "demo" = {…} }` the first
        // cluster's allow-list would vanish without a word.
        const object: Record<string, unknown> = {}
        const seen = new Map<string, number>()
        for (const item of expression.items) {
          const key = this.key(item.key)
          const first = seen.get(key)
          if (first !== undefined) {
            throw new HclSyntaxError(
              item.key.start,
              `object key ${JSON.stringify(key)} is set twice (first at ${lineAndColumn(this.text, first)}); ` +
                'each key of an object may be set only once',
            )
          }
          seen.set(key, item.key.start)
          setOwn(object, key, this.value(item.value))
        }
        return object
      }
      case 'unary': {
        if (expression.operand.kind !== 'literal') return this.wrapped(expression)
        const operand = expression.operand.value
        if (expression.operator === '-' && typeof operand === 'number') {
          const negated = -operand
          return Number.isFinite(negated) ? negated : null
        }
        if (expression.operator === '!' && typeof operand === 'boolean') return !operand
        throw new HclSyntaxError(
          expression.start,
          `"${expression.operator}" needs ${expression.operator === '-' ? 'a number' : 'a bool'}; ` +
            `got ${operand === null ? 'null' : typeof operand === 'boolean' ? 'a bool' : 'a number'}`,
        )
      }
      case 'opaque':
        return this.wrapped(expression)
    }
  }

  /** `convertKey`: a reference stands for its own text, anything else for its string form. */
  private key(expression: Expression): string {
    if (expression.kind === 'opaque' && expression.traversal) return this.source(expression)
    if (expression.kind === 'literal' && expression.value === null) return 'null'
    return this.stringPart(expression)
  }

  private templateText(parts: readonly TemplatePart[]): string {
    return parts.map((part) => this.templatePart(part)).join('')
  }

  private templatePart(part: TemplatePart): string {
    switch (part.kind) {
      case 'text':
        return escapeTemplateText(part.text)
      case 'interpolation':
        return this.stringPart(part.expression)
      case 'if': {
        const otherwise = this.templateText(part.else)
        return (
          `%{if ${this.source(part.condition)}}${this.templateText(part.then)}` +
          `${otherwise === '' ? '' : `%{else}${otherwise}`}%{endif}`
        )
      }
      case 'for': {
        const names = part.keyName === undefined ? part.valueName : `${part.keyName}, ${part.valueName}`
        return `%{for ${names} in ${this.source(part.collection)}}${this.templateText(part.body)}%{endfor}`
      }
    }
  }

  /** `convertStringPart`: an expression inside a template, as text. */
  private stringPart(expression: Expression): string {
    if (expression.kind === 'literal') {
      return typeof expression.value === 'number' ? numberText(expression.value) : String(expression.value)
    }
    if (expression.kind === 'template') {
      const [only] = expression.parts
      if (expression.parts.length === 1 && only?.kind === 'interpolation')
        return this.stringPart(only.expression)
      return this.templateText(expression.parts)
    }
    if (expression.kind === 'opaque' && expression.conditional !== undefined) {
      const { condition, then, else: otherwise } = expression.conditional
      const otherwiseText = this.stringPart(otherwise)
      return (
        `%{if ${this.source(condition)}}${this.stringPart(then)}` +
        `${otherwiseText === '' ? '' : `%{else}${otherwiseText}`}%{endif}`
      )
    }
    return this.wrapped(expression)
  }
}
