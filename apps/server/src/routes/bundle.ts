import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { WIRE_PATHS } from '@k8s-attest/core'
import { BundleResponseSchema } from '@k8s-attest/core/wire'
import { problemResponses } from '../http/problem-responses.ts'

/**
 * `GET /v1/bundle`: the CA certificates agents must trust, as PEM and as a SPIFFE bundle (JWKS
 * form, with sequence number and refresh hint). Public: a bundle is no secret, and an agent
 * bootstrapping its trust verifies it out of band.
 */
export const bundleRoute: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    WIRE_PATHS.bundle,
    {
      schema: {
        summary: 'The trust bundle: CA certificates as PEM and as a SPIFFE bundle',
        response: { 200: BundleResponseSchema, ...problemResponses(500) },
      },
    },
    async () => {
      const bundle = app.ca.bundle()
      return {
        trust_domain: app.ca.trustDomain,
        x509_authorities: [...bundle.certificatesPem],
        spiffe_bundle: {
          keys: bundle.jwks.keys.map((key) => ({ ...key, x5c: [...key.x5c] })),
          spiffe_sequence: bundle.jwks.spiffe_sequence,
          spiffe_refresh_hint: bundle.jwks.spiffe_refresh_hint,
        },
      }
    },
  )
}
