import { describe, expect, it } from 'vitest'
import { closestKey, editDistance } from './closest-key.ts'

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['audiance', 'audience', 1],
    ['server_port', 'sever_port', 1],
  ])('between %j and %j is %d', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance)
    expect(editDistance(b, a)).toBe(distance)
  })
})

describe('closestKey', () => {
  const known = ['server_address', 'server_port', 'trust_domain', 'data_dir']

  it('suggests the nearest known key for a likely typo, ignoring case', () => {
    expect(closestKey('sever_address', known)).toBe('server_address')
    expect(closestKey('Trust_Domain', known)).toBe('trust_domain')
    expect(closestKey('datadir', known)).toBe('data_dir')
  })

  it('suggests nothing when no key is close enough', () => {
    expect(closestKey('join_token', known)).toBeUndefined()
    expect(closestKey('x', [])).toBeUndefined()
  })

  it('allows more edits in longer keys: two, or a quarter of the length', () => {
    // 15 characters allow 3 edits: "a", "e" and "a" are missing.
    expect(closestKey('retry_mx_intrvl', ['retry_max_interval'])).toBe('retry_max_interval')
    // 5 characters allow 2 edits; this is 3 away.
    expect(closestKey('dt_dr', ['data_dir'])).toBeUndefined()
  })
})
