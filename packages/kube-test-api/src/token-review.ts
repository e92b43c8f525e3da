import { tokenReview as tokenReviewSchema } from './api-types.ts'
import type { Cluster } from './cluster.ts'
import { decodeObject } from './decode.ts'
import { arrayAt, type JsonObject, type JsonValue, objectAt, stringAt } from './json.ts'
import { updateManagedFields } from './managed-fields.ts'
import { canonicalize, zeroValue } from './schema.ts'
import { badRequest } from './status.ts'

/**
 * TokenReview (`POST /apis/authentication.k8s.io/v1/tokenreviews`) as
 * kube-apiserver answers it: always 201 once the request is well-formed; a
 * refused token has `status: {"user": {}, "error": "…"}` (no
 * `authenticated` key); an accepted one has the user, its groups and extras,
 * and the audiences it was accepted for. An empty `spec.audiences` means the
 * API audiences.
 */

const API_VERSION = 'authentication.k8s.io/v1'

/** Reviews the token in a TokenReview body; returns the response body. */
export function createTokenReview(cluster: Cluster, body: JsonValue, manager: string): JsonObject {
  const review = decodeObject(body, {
    kind: 'TokenReview',
    apiVersion: API_VERSION,
    schema: tokenReviewSchema,
  })
  const spec = objectAt(review, 'spec') ?? {}
  const token = stringAt(spec, 'token') ?? ''
  if (token === '') throw badRequest('token is required for TokenReview in authentication')
  const metadata = objectAt(review, 'metadata') ?? {}
  metadata.managedFields = updateManagedFields({
    schema: tokenReviewSchema,
    before: zeroValue(tokenReviewSchema) as JsonObject,
    after: review,
    manager,
    apiVersion: API_VERSION,
    now: cluster.clock.now(),
  })
  const audiences = (arrayAt(spec, 'audiences') ?? []).filter(
    (entry): entry is string => typeof entry === 'string',
  )
  const outcome = cluster.authenticator.authenticate(token, audiences.length > 0 ? audiences : undefined)
  if (outcome.authenticated) {
    const user: JsonObject = { username: outcome.user.username, groups: [...outcome.user.groups] }
    if (outcome.user.uid !== undefined) user.uid = outcome.user.uid
    if (outcome.user.extra !== undefined) {
      user.extra = Object.fromEntries(
        Object.entries(outcome.user.extra).map(([key, values]) => [key, [...values]]),
      )
    }
    review.status = { authenticated: true, user, audiences: [...outcome.audiences] }
  } else {
    review.status = { user: {}, error: outcome.error }
  }
  return canonicalize(tokenReviewSchema, review) as JsonObject
}
