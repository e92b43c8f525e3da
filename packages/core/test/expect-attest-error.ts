import { AttestError } from '../src/errors.ts'

/**
 * Runs `action` and returns the AttestError it throws, so a test can assert
 * `code`, `details.check` and `message` in that order. Anything else thrown
 * fails the test with the original error; returning normally fails it too.
 */
export function catchAttestError(action: () => unknown): AttestError {
  try {
    action()
  } catch (error) {
    if (error instanceof AttestError) return error
    throw error
  }
  throw new Error('expected an AttestError, but nothing was thrown')
}
