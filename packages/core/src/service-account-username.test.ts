import { describe, expect, it } from 'vitest'
import { formatServiceAccountName, parseServiceAccountUsername } from './service-account-username.ts'

describe('parseServiceAccountUsername', () => {
  it('splits a service account username', () => {
    expect(parseServiceAccountUsername('system:serviceaccount:spire:spire-agent')).toEqual({
      ok: true,
      namespace: 'spire',
      name: 'spire-agent',
    })
  })

  it.each([
    [
      'three parts',
      'system:node:node-a',
      'parts',
      'expected exactly four ":"-separated parts, system:serviceaccount:<namespace>:<name> (found 3)',
    ],
    ['five parts', 'system:serviceaccount:spire:spire-agent:x', 'parts', '(found 5)'],
    ['no colon', 'admin', 'parts', '(found 1)'],
    ['the empty string', '', 'parts', '(found 1)'],
    [
      'another prefix',
      'system:serviceaccounts:spire:spire-agent',
      'prefix',
      'expected it to start with "system:serviceaccount:"',
    ],
    [
      'a case variant of the prefix',
      'System:ServiceAccount:spire:spire-agent',
      'prefix',
      'expected it to start with',
    ],
    [
      'an empty namespace',
      'system:serviceaccount::spire-agent',
      'namespace_empty',
      'the namespace part is empty',
    ],
    ['an empty name', 'system:serviceaccount:spire:', 'name_empty', 'the service account name part is empty'],
  ])('reports %s', (_name, username, problem, reasonPart) => {
    expect(parseServiceAccountUsername(username)).toEqual({
      ok: false,
      problem,
      reason: expect.stringContaining(reasonPart),
    })
  })
})

describe('formatServiceAccountName', () => {
  it('is namespace:name, the allow-list form', () => {
    expect(formatServiceAccountName({ namespace: 'spire', name: 'spire-agent' })).toBe('spire:spire-agent')
  })
})
