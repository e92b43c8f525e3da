import type { JsonObject } from './json.ts'
import { objectAt, stringAt } from './json.ts'
import { signJwt } from './jwt.ts'
import { metadataOf, type Registry } from './registry.ts'
import {
  SERVICE_ACCOUNT_NAME_ANNOTATION,
  SERVICE_ACCOUNT_TOKEN_TYPE,
  SERVICE_ACCOUNT_UID_ANNOTATION,
  secrets,
} from './resources/secrets.ts'
import { serviceAccounts } from './resources/service-accounts.ts'
import type { SigningKey } from './signing-key.ts'
import { legacyTokenClaims } from './token-claims.ts'

/**
 * What kube-controller-manager's token controller does to a
 * `kubernetes.io/service-account-token` Secret, done on request (the test
 * API runs no controllers): sign a legacy token for the account the Secret
 * names, and write it with the cluster CA and the namespace into the Secret.
 */

/** The field manager of the token controller's writes. */
export const TOKEN_CONTROLLER_MANAGER = 'kube-controller-manager'

/** Fills Secret `namespace/secretName` with a legacy token; returns the token. */
export function fillServiceAccountTokenSecret(
  registry: Registry,
  signingKey: SigningKey,
  caCertificatePem: string,
  namespace: string,
  secretName: string,
): string {
  const secret = registry.get(secrets, namespace, secretName)
  if (stringAt(secret, 'type') !== SERVICE_ACCOUNT_TOKEN_TYPE) {
    throw new TypeError(`secret "${namespace}/${secretName}" is not of type ${SERVICE_ACCOUNT_TOKEN_TYPE}`)
  }
  const metadata = metadataOf(secret)
  const annotations: JsonObject = objectAt(metadata, 'annotations') ?? {}
  const accountName = stringAt(annotations, SERVICE_ACCOUNT_NAME_ANNOTATION) ?? ''
  const account = metadataOf(registry.get(serviceAccounts, namespace, accountName))
  const accountUid = stringAt(account, 'uid') ?? ''
  const token = signJwt(
    legacyTokenClaims(namespace, { name: accountName, uid: accountUid }, secretName),
    signingKey,
  )
  metadata.annotations = { ...annotations, [SERVICE_ACCOUNT_UID_ANNOTATION]: accountUid }
  secret.data = {
    'ca.crt': Buffer.from(caCertificatePem).toString('base64'),
    namespace: Buffer.from(namespace).toString('base64'),
    token: Buffer.from(token).toString('base64'),
  }
  registry.update(secrets, namespace, secretName, secret, { manager: TOKEN_CONTROLLER_MANAGER })
  return token
}
