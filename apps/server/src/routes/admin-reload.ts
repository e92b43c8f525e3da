import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { type ConfigReloadResponse, WIRE_PATHS } from '@k8s-attest/core'
import { ConfigReloadResponseSchema } from '@k8s-attest/core/wire'
import type { AdminAuthenticator } from '../admin/admin-auth.ts'
import { problemResponses } from '../http/problem-responses.ts'
import { adminAuthenticationHook } from './admin-agents.ts'

/** Options of {@link adminReloadRoute}. */
export interface AdminReloadRouteOptions {
  readonly authenticator: AdminAuthenticator
  /**
   * Reloads (`ConfigReloader.reload`); in a worker of `server.workers`, has every worker
   * reload through the primary.
   */
  readonly reload: () => Promise<ConfigReloadResponse>
}

/**
 * `POST /v1/admin/reload`: what SIGHUP does, for operators who cannot signal the process (a
 * container, another host). Answers 200 with the clusters that changed, or 409
 * `ATT_ERR_CONFIG_RELOAD_REFUSED` listing every problem of the file (the running
 * configuration stays). Admin credential required, as every admin route.
 */
export const adminReloadRoute: FastifyPluginAsyncTypebox<AdminReloadRouteOptions> = async (app, options) => {
  app.addHook('onRequest', adminAuthenticationHook(options.authenticator))
  app.post(
    WIRE_PATHS.adminReload,
    {
      schema: {
        summary: 'Re-read the configuration file and apply its clusters and allow-lists',
        response: { 200: ConfigReloadResponseSchema, ...problemResponses(401, 403, 409, 500) },
      },
    },
    async () => options.reload(),
  )
}
