import { describe, expect, test } from 'vitest'
import { checkPageSize, normalizeSelectors, normalizeSerial } from './input-checks.ts'

describe('normalizeSerial', () => {
  test.each([
    ['0aBc', 'abc'],
    ['000', '0'],
    ['7f', '7f'],
    [`${'0'.repeat(39)}1`, '1'],
  ])('stores %s as %s', (serial, stored) => {
    expect(normalizeSerial(serial)).toBe(stored)
  })

  test.each(['', 'xyz', '0x1f', '1'.repeat(41), ' 1f'])('rejects %j', (serial) => {
    expect(() => normalizeSerial(serial)).toThrow(
      new TypeError(`"svidSerial" must be 1 to 40 hex digits, got ${JSON.stringify(serial)}`),
    )
  })
})

describe('normalizeSelectors', () => {
  test('sorts by type then value and drops duplicates', () => {
    expect(
      normalizeSelectors([
        { type: 'k8s_psat', value: 'cluster:prod' },
        { type: 'k8s_sat', value: 'agent_ns:spire' },
        { type: 'k8s_psat', value: 'agent_ns:spire' },
        { type: 'k8s_psat', value: 'cluster:prod' },
      ]),
    ).toEqual([
      { type: 'k8s_psat', value: 'agent_ns:spire' },
      { type: 'k8s_psat', value: 'cluster:prod' },
      { type: 'k8s_sat', value: 'agent_ns:spire' },
    ])
  })

  test('keeps an empty value, which some selectors have', () => {
    expect(normalizeSelectors([{ type: 'k8s_psat', value: '' }])).toEqual([{ type: 'k8s_psat', value: '' }])
  })

  test.each([
    [
      'not an array',
      'k8s_psat:agent_ns:spire',
      '"selectors" must be an array of { type, value }, got "k8s_psat:agent_ns:spire"',
    ],
    ['a null entry', [null], '"selectors[0]" must be { type: non-empty string, value: string }, got null'],
    [
      'an empty type',
      [{ type: '', value: 'x' }],
      '"selectors[0]" must be { type: non-empty string, value: string }, got an object',
    ],
    [
      'a number value',
      [{ type: 't', value: 1 }],
      '"selectors[0]" must be { type: non-empty string, value: string }, got an object',
    ],
  ])('rejects %s', (_name, selectors, message) => {
    expect(() => normalizeSelectors(selectors)).toThrow(new TypeError(message))
  })
})

describe('checkPageSize', () => {
  test('defaults to 50 and accepts 1 to 1000', () => {
    expect(checkPageSize(undefined)).toBe(50)
    expect(checkPageSize(1)).toBe(1)
    expect(checkPageSize(1000)).toBe(1000)
  })

  test.each([0, -1, 1001, 1.5, '10'])('rejects %j', (pageSize) => {
    expect(() => checkPageSize(pageSize)).toThrow(TypeError)
  })
})
