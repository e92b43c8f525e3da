import { secret as secretSchema } from '../api-types.ts'
import { type JsonObject, objectAt, stringAt } from '../json.ts'
import { badRequest, type FieldError } from '../status.ts'
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

const BASE64 = /^[A-Za-z0-9+/]*$/
const DATA_KEY = /^[-._a-zA-Z0-9]+$/

/** The byte offset Go's base64 decoder reports for malformed input, or `undefined` when valid. */
function base64ErrorOffset(value: string): number | undefined {
  const unpadded = value.replace(/={1,2}$/, '')
  for (let index = 0; index < unpadded.length; index++) {
    if (!BASE64.test(unpadded[index] as string)) return index
  }
  if (value.length % 4 !== 0) return value.length - (value.length % 4)
  return undefined
}

/** Decoding: `data` must be base64; `stringData` is merged into `data`; the type defaults to `Opaque`. */
function applyDefaults(secret: JsonObject): void {
  const data = objectAt(secret, 'data') ?? {}
  for (const value of Object.values(data)) {
    if (typeof value !== 'string') continue
    const offset = base64ErrorOffset(value)
    if (offset !== undefined) {
      throw badRequest(
        `Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${offset}`,
      )
    }
  }
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
  for (const key of Object.keys(objectAt(secret, 'data') ?? {})) {
    if (!DATA_KEY.test(key)) {
      errors.push({
        field: `data[${key}]`,
        type: 'Invalid value',
        value: key,
        detail:
          "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
      })
    }
  }
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
