import { describe, expect, it } from 'vitest'
import { CONFIG_ERROR_CODES, ConfigError, isConfigError } from './config-error.ts'

const AGENT_CONF = { fileName: 'agent.conf', subject: 'agent' }

describe('ConfigError', () => {
  it('carries code, file, subject, issues and cause, and lists every issue in its message', () => {
    const cause = new Error('parser said no')
    const error = new ConfigError(
      'ATT_ERR_CONFIG_INVALID',
      AGENT_CONF,
      [
        { path: 'agent.trust_domain', message: 'is required' },
        { path: '', message: 'something about the whole file' },
      ],
      { cause },
    )
    expect(error).toMatchObject({
      name: 'ConfigError',
      code: 'ATT_ERR_CONFIG_INVALID',
      fileName: 'agent.conf',
      subject: 'agent',
      details: { value: 'agent.conf' },
      cause,
    })
    expect(error.message).toBe(
      [
        'invalid agent configuration "agent.conf" (2 problems):',
        '  - agent.trust_domain: is required',
        '  - something about the whole file',
      ].join('\n'),
    )
  })

  it('counts a single problem in the singular and names the subject it was given', () => {
    const error = new ConfigError(
      'ATT_ERR_CONFIG_SYNTAX',
      { fileName: 'conf/server.conf', subject: 'server' },
      [{ path: 'conf/server.conf:2:5', message: 'Invalid expression' }],
    )
    expect(error.message).toBe(
      'invalid server configuration "conf/server.conf" (1 problem):\n  - conf/server.conf:2:5: Invalid expression',
    )
    expect(Object.hasOwn(error, 'cause')).toBe(false)
  })

  it('keeps its own copy of the issues, frozen', () => {
    const issues = [{ path: 'a', message: 'b' }]
    const error = new ConfigError('ATT_ERR_CONFIG_INVALID', AGENT_CONF, issues)
    issues.push({ path: 'c', message: 'd' })
    expect(error.issues).toEqual([{ path: 'a', message: 'b' }])
    expect(Object.isFrozen(error.issues)).toBe(true)
  })

  it('refuses to be built without an issue, as a TypeError (a loader bug)', () => {
    expect(() => new ConfigError('ATT_ERR_CONFIG_INVALID', AGENT_CONF, [])).toThrow(
      new TypeError('a ConfigError (ATT_ERR_CONFIG_INVALID) needs at least one issue'),
    )
  })
})

describe('CONFIG_ERROR_CODES', () => {
  it('follow ATT_ERR_CONFIG_<WHAT>', () => {
    for (const code of CONFIG_ERROR_CODES) expect(code).toMatch(/^ATT_ERR_CONFIG_[A-Z_]+$/)
  })
})

describe('isConfigError', () => {
  it('recognises a ConfigError by code and shape, not by class', () => {
    const error = new ConfigError('ATT_ERR_CONFIG_UNREADABLE', AGENT_CONF, [{ path: '', message: 'gone' }])
    expect(isConfigError(error)).toBe(true)
    const lookalike = Object.assign(new Error('x'), { code: 'ATT_ERR_CONFIG_SYNTAX', issues: [] })
    expect(isConfigError(lookalike)).toBe(true)
  })

  it.each([
    ['an error with another code', Object.assign(new Error('x'), { code: 'ATT_ERR_INTERNAL', issues: [] })],
    ['an error without issues', Object.assign(new Error('x'), { code: 'ATT_ERR_CONFIG_INVALID' })],
    ['a plain object', { code: 'ATT_ERR_CONFIG_INVALID', issues: [] }],
    ['undefined', undefined],
  ])('refuses %s', (_, value) => {
    expect(isConfigError(value)).toBe(false)
  })
})
