import { selfSubjectAccessReview as accessReviewSchema } from './api-types.ts'
import type { Cluster } from './cluster.ts'
import { decodeObject } from './decode.ts'
import type { Identity } from './identities.ts'
import type { JsonObject, JsonValue } from './json.ts'
import { objectAt, stringAt } from './json.ts'
import { updateManagedFields } from './managed-fields.ts'
import type { RequestInfo } from './request-info.ts'
import { canonicalize, zeroValue } from './schema.ts'
import { invalid } from './status.ts'
import type { UserInfo } from './user-info.ts'

/**
 * SelfSubjectAccessReview (`POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`):
 * may the caller do this? Answered by the same authorizer that guards the
 * API, so a server's startup permission check sees what its requests will.
 */

const API_VERSION = 'authorization.k8s.io/v1'

/** Answers a SelfSubjectAccessReview body for `user`; returns the response body. */
export function createSelfSubjectAccessReview(
  cluster: Cluster,
  user: UserInfo,
  identity: Identity | undefined,
  body: JsonValue,
  manager: string,
): JsonObject {
  const review = decodeObject(body, {
    kind: 'SelfSubjectAccessReview',
    apiVersion: API_VERSION,
    schema: accessReviewSchema,
  })
  const spec = objectAt(review, 'spec') ?? {}
  const resource = objectAt(spec, 'resourceAttributes')
  const nonResource = objectAt(spec, 'nonResourceAttributes')
  if ((resource === undefined) === (nonResource === undefined)) {
    throw invalid({ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview' }, '', [
      {
        field: 'spec.resourceAttributes',
        type: 'Invalid value',
        value: 'null',
        detail: 'exactly one of nonResourceAttributes or resourceAttributes must be specified',
      },
    ])
  }
  const metadata = objectAt(review, 'metadata') ?? {}
  metadata.managedFields = updateManagedFields({
    schema: accessReviewSchema,
    before: zeroValue(accessReviewSchema) as JsonObject,
    after: review,
    manager,
    apiVersion: API_VERSION,
    now: cluster.clock.now(),
  })
  const request: RequestInfo =
    resource !== undefined
      ? {
          resourceRequest: true,
          path: '',
          verb: stringAt(resource, 'verb') ?? '',
          apiGroup: stringAt(resource, 'group') ?? '',
          apiVersion: stringAt(resource, 'version') ?? '',
          resource: stringAt(resource, 'resource') ?? '',
          subresource: stringAt(resource, 'subresource') ?? '',
          namespace: stringAt(resource, 'namespace') ?? '',
          name: stringAt(resource, 'name') ?? '',
        }
      : {
          resourceRequest: false,
          path: stringAt(nonResource, 'path') ?? '',
          verb: stringAt(nonResource, 'verb') ?? '',
        }
  const decision = cluster.authorizer.authorize(user, request, identity)
  review.status =
    decision.reason === ''
      ? { allowed: decision.allowed }
      : { allowed: decision.allowed, reason: decision.reason }
  return canonicalize(accessReviewSchema, review) as JsonObject
}
