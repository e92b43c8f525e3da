import { describe, expect, it } from 'vitest'
import { describeType, isJsonObject, MAX_QUOTED_LENGTH, quote } from './quote.ts'

describe('quote', () => {
  it('quotes like JSON, so empty and odd values stay visible', () => {
    expect(quote('')).toBe('""')
    expect(quote('a "b"\n')).toBe('"a \\"b\\"\\n"')
  })

  it(`cuts values longer than ${MAX_QUOTED_LENGTH} characters`, () => {
    expect(quote('x'.repeat(MAX_QUOTED_LENGTH))).toBe(`"${'x'.repeat(MAX_QUOTED_LENGTH)}"`)
    expect(quote('x'.repeat(MAX_QUOTED_LENGTH + 1))).toBe(`"${'x'.repeat(MAX_QUOTED_LENGTH)}…"`)
  })
})

describe('describeType', () => {
  it.each([
    ['', 'empty string'],
    ['a', 'string'],
    [null, 'null'],
    [[], 'array'],
    [{}, 'object'],
    [1, 'number'],
    [undefined, 'undefined'],
  ])('%j is %s', (value, name) => {
    expect(describeType(value)).toBe(name)
  })
})

describe('isJsonObject', () => {
  it('is true for objects only', () => {
    expect(isJsonObject({})).toBe(true)
    expect(isJsonObject([])).toBe(false)
    expect(isJsonObject(null)).toBe(false)
    expect(isJsonObject('{}')).toBe(false)
  })
})
