import { secret as secretSchema } from '../api-types.ts'
import { type JsonObject, objectAt, stringAt } from '../json.ts'
import type { FieldError } from '../status.ts'
import { requireBase64Values } from './byte-maps.ts'
import { validateConfigKey } from './config-keys.ts'
import type { ResourceDefinition } from './definition.ts'

/**
 * Secrets, including `kubernetes.io/service-account-token` ones. There is no
 * token controller: such a secret stays empty until a test fills it
 * (`issueLegacyToken`), exactly as the recordings (made without a
 * controller-manager) show.
 */

/** The Secret type of legacy service account token secrets. */
export const SERVICE_ACCOUNT_TOKEN_TYPE = 'kubernetes.io/service-account-token'
/** The annotation naming the service account of a token secret. */
export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name'
/** The annotation a token controller sets to the service account's UID. */
export const SERVICE_ACCOUNT_UID_ANNOTATION = 'kubernetes.io/service-account.uid'

/** Decoding: `data` must be base64; `stringData` is merged into `data`; the type defaults to `Opaque`. */
function applyDefaults(secret: JsonObject): void {
  const data = objectAt(secret, 'data') ?? {}
  requireBase64Values(data, 'Secret')
  const stringData = objectAt(secret, 'stringData')
  if (stringData !== undefined) {
    for (const [key, value] of Object.entries(stringData)) {
      if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64')
    }
    delete secret.stringData
  }
  if (Object.keys(data).length > 0) secret.data = data
  if (!stringAt(secret, 'type')) secret.type = 'Opaque'
}

function validate(secret: JsonObject, previous: JsonObject | undefined): FieldError[] {
  const errors: FieldError[] = []
  for (const key of Object.keys(objectAt(secret, 'data') ?? {}))
    errors.push(...validateConfigKey(key, 'data'))
  const type = stringAt(secret, 'type') ?? ''
  if (type === SERVICE_ACCOUNT_TOKEN_TYPE) {
    const annotations = objectAt(objectAt(secret, 'metadata'), 'annotations') ?? {}
    if (!stringAt(annotations, SERVICE_ACCOUNT_NAME_ANNOTATION)) {
      errors.push({
        field: `metadata.annotations[${SERVICE_ACCOUNT_NAME_ANNOTATION}]`,
        type: 'Required value',
      })
    }
  }
  if (previous !== undefined && stringAt(previous, 'type') !== type) {
    errors.push({ field: 'type', type: 'Invalid value', value: type, detail: 'field is immutable' })
  }
  return errors
}

/** The `secrets` resource. */
export const secrets: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'secrets',
  kind: 'Secret',
  listKind: 'SecretList',
  namespaced: true,
  schema: secretSchema,
  nameRule: 'dns1123-subdomain',
  hasStatus: false,
  deleteReturnsObject: false,
  applyDefaults,
  validate,
}
