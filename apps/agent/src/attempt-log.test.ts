import { describe, expect, it } from 'vitest'
import { LogCapture } from '../test/agent-fixture.ts'
import { failureFields, logRetry } from './attempt-log.ts'
import { AgentError } from './errors.ts'
import { classifyFailure } from './failure.ts'

const missingToken = new AgentError('ATT_ERR_TOKEN_FILE_MISSING', 'no token at /var/run/token', {
  check: 'token_file',
  expected: 'a file holding the service account token',
})

describe('failureFields', () => {
  it("names the failure, the check that failed and what was expected, from the error's details", () => {
    const failure = classifyFailure(missingToken)
    if (failure === undefined) throw new Error('an AgentError is always classified')
    expect(failureFields(failure, missingToken, { attempt: 3, retryInMs: 800 })).toStrictEqual({
      code: 'ATT_ERR_TOKEN_FILE_MISSING',
      source: 'agent',
      failure: 'transient',
      attempt: 3,
      check: 'token_file',
      expected: 'a file holding the service account token',
      retry_in_ms: 800,
    })
  })

  it('adds the held SPIFFE ID, and leaves out what is unknown', () => {
    const error = new AgentError('ATT_ERR_CONFIG_INVALID', 'bad', {})
    const failure = classifyFailure(error)
    if (failure === undefined) throw new Error('an AgentError is always classified')
    expect(failureFields(failure, error, { attempt: 1, spiffeId: 'spiffe://example.org/a' })).toStrictEqual({
      code: 'ATT_ERR_CONFIG_INVALID',
      source: 'agent',
      failure: 'permanent',
      attempt: 1,
      spiffe_id: 'spiffe://example.org/a',
    })
  })
})

describe('logRetry', () => {
  it('warns of a transient failure, and says a permanent one keeps failing at the backoff cap', () => {
    const logs = new LogCapture()
    const logger = logs.logger()
    const transient = classifyFailure(missingToken)
    const permanentError = new AgentError('ATT_ERR_CONFIG_INVALID', 'cluster is empty', {})
    const permanent = classifyFailure(permanentError)
    if (transient === undefined || permanent === undefined) throw new Error('classified')
    const context = { attempt: 1, retryInMs: 500, retryMaxIntervalMs: 60_000 }
    logRetry(logger, { failure: transient, error: missingToken, method: 'attest' }, context)
    logRetry(logger, { failure: permanent, error: permanentError, method: 'renew' }, context)
    const entries = logs.entries()
    expect(entries.map(({ level, msg }) => [level, msg])).toEqual([
      ['warn', 'attestation failed, will retry (transient: no token at /var/run/token)'],
      [
        'error',
        'renewal refused (permanent: cluster is empty); this will keep failing until the cause is fixed, retrying every ~60s',
      ],
    ])
    expect(entries[1]).toMatchObject({
      method: 'renew',
      retry_in_ms: 500,
      code: 'ATT_ERR_CONFIG_INVALID',
    })
  })

  it("adds the cause's message when the error's own does not carry it", () => {
    const parse = new SyntaxError('Unexpected token o in JSON at position 15')
    const error = new AgentError('ATT_ERR_SERVER_RESPONSE_INVALID', 'the answer to /v1/attest is not JSON', {
      cause: parse,
    })
    const failure = classifyFailure(error)
    if (failure === undefined) throw new Error('an AgentError is always classified')
    expect(failureFields(failure, error, { attempt: 1 })).toMatchObject({ cause: parse.message })
    const repeated = new AgentError('ATT_ERR_SERVER_UNREACHABLE', `cannot reach it (${parse.message})`, {
      cause: parse,
    })
    expect(failureFields(failure, repeated, { attempt: 1 })).not.toHaveProperty('cause')
  })
})
