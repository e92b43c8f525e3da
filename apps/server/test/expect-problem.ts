import { PROBLEM_CONTENT_TYPE, type Problem } from '@k8s-attest/core'
import { expect } from 'vitest'
import type { HarnessResponse } from './server-harness.ts'

/** Asserts a problem answer: status, content type, stable code; returns the body. */
export function expectProblem(response: HarnessResponse, status: number, code: Problem['code']): Problem {
  expect({ status: response.status, code: response.body.code }).toEqual({ status, code })
  expect(String(response.headers['content-type'])).toContain(PROBLEM_CONTENT_TYPE)
  expect(response.body.status).toBe(status)
  return response.body as unknown as Problem
}
