import { ATTEST_ERROR_CODES, AttestError } from '@k8s-attest/core'
import { ConfigError } from '@k8s-attest/spire-config'
import { describe, expect, it } from 'vitest'
import {
  AGENT_CODES_DISJOINT_FROM_SERVER_CODES,
  AGENT_ERROR_CODES,
  AgentError,
  isAgentError,
  ServerProblemError,
} from './errors.ts'

describe('agent error codes', () => {
  it('follow ATT_ERR_<AREA>_<WHAT> and never spell a server code', () => {
    expect(AGENT_CODES_DISJOINT_FROM_SERVER_CODES).toBe(true)
    const serverCodes = new Set<string>(ATTEST_ERROR_CODES)
    for (const code of AGENT_ERROR_CODES) {
      expect(code).toMatch(/^ATT_ERR_[A-Z]+_[A-Z_]+$/)
      expect(serverCodes.has(code)).toBe(false)
    }
  })
})

describe('AgentError', () => {
  it('carries code, details and cause', () => {
    const cause = new Error('ENOENT')
    const error = new AgentError('ATT_ERR_TOKEN_FILE_MISSING', 'token file "/t" does not exist', {
      check: 'token_file',
      value: '/t',
      cause,
    })
    expect(error).toMatchObject({ name: 'AgentError', code: 'ATT_ERR_TOKEN_FILE_MISSING', cause })
    expect(error.details).toEqual({ check: 'token_file', value: '/t' })
    expect(isAgentError(error)).toBe(true)
    expect(isAgentError(new AttestError('ATT_ERR_INTERNAL', 'x'))).toBe(false)
    expect(isAgentError({ code: 'ATT_ERR_TOKEN_FILE_MISSING' })).toBe(false)
  })
})

describe('ConfigError (from @k8s-attest/spire-config)', () => {
  it('counts as an agent error, with details, as the CLI and failure classification expect', () => {
    const error = new ConfigError('ATT_ERR_CONFIG_INVALID', { fileName: 'agent.conf', subject: 'agent' }, [
      { path: 'agent.trust_domain', message: 'is required' },
    ])
    expect(isAgentError(error)).toBe(true)
    expect(error.details).toEqual({ value: 'agent.conf' })
  })
})

describe('ServerProblemError', () => {
  it('is an AttestError with the server code, details, status and Retry-After', () => {
    const error = new ServerProblemError('ATT_ERR_RATE_LIMITED', 'slow down', {
      httpStatus: 429,
      retryAfterMs: 2000,
      check: 'rate_limit',
    })
    expect(error).toBeInstanceOf(AttestError)
    expect(error).toMatchObject({
      name: 'ServerProblemError',
      code: 'ATT_ERR_RATE_LIMITED',
      httpStatus: 429,
      retryAfterMs: 2000,
    })
    expect(error.details).toEqual({ check: 'rate_limit' })
  })
})
