import { describe, expect, it } from 'vitest'
import { LogCapture } from '../test/agent-fixture.ts'
import { createLogger } from './logger.ts'

describe('createLogger', () => {
  it('writes JSON lines with the level as a name', () => {
    const logs = new LogCapture()
    createLogger({ level: 'info', destination: logs }).warn({ code: 'X' }, 'careful')
    expect(logs.entries()).toEqual([
      expect.objectContaining({ level: 'warn', name: 'k8s-attest-agent', code: 'X', msg: 'careful' }),
    ])
  })

  it('respects the level', () => {
    const logs = new LogCapture()
    createLogger({ level: 'warn', destination: logs }).info('hidden')
    expect(logs.lines).toEqual([])
  })

  it('redacts tokens and keys under every name they could travel by', () => {
    const logs = new LogCapture()
    createLogger({ level: 'info', destination: logs }).info(
      {
        token: 'secret-1',
        request: { token: 'secret-2', headers: { authorization: 'Bearer secret-3' } },
        body: { attestation: { payload: { token: 'secret-4' } } },
        privateKey: 'secret-5',
        svid: { key: 'secret-6' },
      },
      'request',
    )
    expect(logs.text()).not.toMatch(/secret-\d/)
    expect(logs.entries()[0]).toMatchObject({ token: '[REDACTED]', request: { token: '[REDACTED]' } })
  })
})
