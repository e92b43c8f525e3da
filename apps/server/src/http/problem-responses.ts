import { ProblemSchema } from '@k8s-attest/core/wire'

/**
 * Response schemas for the error statuses a route can answer with, all `ProblemSchema`, so the
 * OpenAPI document lists each one and fast-json-stringify serialises problems with no field
 * beyond the schema.
 */
export function problemResponses<const S extends number>(
  ...statuses: readonly S[]
): Record<S, typeof ProblemSchema> {
  return Object.fromEntries(statuses.map((status) => [status, ProblemSchema])) as Record<
    S,
    typeof ProblemSchema
  >
}
