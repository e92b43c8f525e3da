import type { JsonObject } from '../json.ts'
import { badRequest } from '../status.ts'

/**
 * `map[string][]byte` fields (a Secret's `data`, a ConfigMap's
 * `binaryData`): on the wire each value is standard, padded base64, which
 * Go's JSON decoder turns into bytes. Malformed base64 fails the decoding of
 * the whole body with a 400, before defaulting or validation.
 */

const BASE64 = /^[A-Za-z0-9+/]*$/

/** The byte offset Go's base64 decoder reports for malformed input, or `undefined` when valid. */
function base64ErrorOffset(value: string): number | undefined {
  const unpadded = value.replace(/={1,2}$/, '')
  for (let index = 0; index < unpadded.length; index++) {
    if (!BASE64.test(unpadded[index] as string)) return index
  }
  if (value.length % 4 !== 0) return value.length - (value.length % 4)
  return undefined
}

/**
 * Throws the 400 kube-apiserver answers when a value of `values` is not
 * base64: `ConfigMap in version "v1" cannot be handled as a ConfigMap:
 * illegal base64 data at input byte 4`.
 */
export function requireBase64Values(values: JsonObject | undefined, kind: string): void {
  for (const value of Object.values(values ?? {})) {
    if (typeof value !== 'string') continue
    const offset = base64ErrorOffset(value)
    if (offset !== undefined) {
      throw badRequest(
        `${kind} in version "v1" cannot be handled as a ${kind}: illegal base64 data at input byte ${offset}`,
      )
    }
  }
}

/** How many bytes a (valid) base64 value decodes to. */
export function decodedLength(value: string): number {
  return Buffer.from(value, 'base64').length
}
