import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.ts'

describe('createLogger', () => {
  it('redacts tokens and authorization headers wherever a line carries them', () => {
    const lines: string[] = []
    const logger = createLogger({
      level: 'info',
      destination: { write: (line: string) => void lines.push(line) },
    })
    logger.info(
      {
        req: {
          headers: { authorization: 'Bearer secret-admin' },
          body: { attestation: { payload: { token: 'eyJ.secret.jwt' } } },
        },
        token: 'top-level-secret',
        nested: { token: 'nested-secret' },
      },
      'request',
    )
    expect(lines).toHaveLength(1)
    for (const secret of ['secret-admin', 'eyJ.secret.jwt', 'top-level-secret', 'nested-secret']) {
      expect(lines[0]).not.toContain(secret)
    }
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ token: '[REDACTED]', msg: 'request' })
  })
})
