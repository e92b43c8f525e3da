import type { Cluster } from './cluster.ts'
import { isJsonObject, type JsonObject } from './json.ts'
import { signJwt } from './jwt.ts'
import { SERVICE_ACCOUNT_NAME_ANNOTATION, SERVICE_ACCOUNT_TOKEN_TYPE, secrets } from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import type { KubeTestApi } from './test-api.ts'
import { TEST_API_WRITE } from './test-api-objects.ts'
import { fillServiceAccountTokenSecret } from './token-controller.ts'
import { createTokenRequest } from './token-request.ts'

/**
 * The test API's token methods: bound tokens through TokenRequest, legacy
 * tokens in service account token Secrets (as the token controller fills
 * them), and arbitrary claims signed with the cluster key.
 */

/** The token-issuing methods of {@link KubeTestApi}. */
export type TokenMethods = Pick<
  KubeTestApi,
  'requestToken' | 'createLegacyTokenSecret' | 'issueLegacyToken' | 'signToken'
>

/** The token methods of `cluster`; legacy token Secrets carry `caCertificatePem` as `ca.crt`. */
export function tokenMethods(cluster: Cluster, caCertificatePem: string): TokenMethods {
  const { registry, settings } = cluster
  const issueLegacyToken: TokenMethods['issueLegacyToken'] = (namespace, secretName) =>
    fillServiceAccountTokenSecret(registry, settings.signingKey, caCertificatePem, namespace, secretName)
  return {
    requestToken: (input) => {
      const spec: JsonObject = {}
      if (input.audiences !== undefined) spec.audiences = [...input.audiences]
      if (input.expirationSeconds !== undefined) spec.expirationSeconds = input.expirationSeconds
      if (input.boundObject !== undefined) {
        const ref: JsonObject = {
          kind: input.boundObject.kind,
          apiVersion: 'v1',
          name: input.boundObject.name,
        }
        if (input.boundObject.uid !== undefined) ref.uid = input.boundObject.uid
        spec.boundObjectRef = ref
      }
      const result = createTokenRequest(
        cluster,
        input.namespace,
        input.serviceAccount,
        { spec },
        TEST_API_WRITE.manager,
      )
      return { token: result.token, expirationTimestamp: result.expirationTimestamp }
    },
    createLegacyTokenSecret: (namespace, secretName, serviceAccount) => {
      // Refuse (404) before creating a Secret for an account that does not exist.
      registry.get(serviceAccounts, namespace, serviceAccount)
      registry.create(
        secrets,
        namespace,
        {
          metadata: {
            name: secretName,
            namespace,
            annotations: { [SERVICE_ACCOUNT_NAME_ANNOTATION]: serviceAccount },
          },
          type: SERVICE_ACCOUNT_TOKEN_TYPE,
        },
        TEST_API_WRITE,
      )
      return issueLegacyToken(namespace, secretName)
    },
    issueLegacyToken,
    signToken: (claims) => {
      if (!isJsonObject(claims)) throw new TypeError('"claims" must be a JSON object')
      return signJwt(claims, settings.signingKey)
    },
  }
}
