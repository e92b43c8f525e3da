import { AttestError } from '@k8s-attest/core'
import { expect } from 'vitest'

/** The AttestError `promise` rejects with; fails the test when it resolves or rejects otherwise. */
export async function attestRefusal(promise: Promise<unknown>): Promise<AttestError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(AttestError)
  return error as AttestError
}
