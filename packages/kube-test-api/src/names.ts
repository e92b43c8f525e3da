import { randomInt, randomUUID } from 'node:crypto'
import type { FieldError } from './status.ts'

/**
 * Object names: validation with kube-apiserver's messages, and the random
 * parts it generates (UIDs, `generateName` suffixes, volume names).
 */

/** How a resource validates its object names. */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'path-segment'

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
// kube-apiserver's text has the double space after "'my-name',".
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"

/** The field errors of `name` under `rule`, at field `field` (`metadata.name`). */
export function validateName(name: string, rule: NameRule, field = 'metadata.name'): FieldError[] {
  switch (rule) {
    case 'dns1123-label': {
      const errors: FieldError[] = []
      if (name.length > 63) {
        errors.push({
          field,
          type: 'Invalid value',
          value: name,
          detail: 'must be no more than 63 characters',
        })
      }
      if (!DNS1123_LABEL.test(name))
        errors.push({ field, type: 'Invalid value', value: name, detail: LABEL_MESSAGE })
      return errors
    }
    case 'dns1123-subdomain': {
      const errors: FieldError[] = []
      if (name.length > 253) {
        errors.push({
          field,
          type: 'Invalid value',
          value: name,
          detail: 'must be no more than 253 characters',
        })
      }
      if (!DNS1123_SUBDOMAIN.test(name)) {
        errors.push({ field, type: 'Invalid value', value: name, detail: SUBDOMAIN_MESSAGE })
      }
      return errors
    }
    case 'path-segment': {
      if (name === '.' || name === '..') {
        return [{ field, type: 'Invalid value', value: name, detail: `may not be '${name}'` }]
      }
      // `IsValidPathSegmentName` reports every forbidden character, not just the first.
      return ['/', '%']
        .filter((forbidden) => name.includes(forbidden))
        .map((forbidden) => ({
          field,
          type: 'Invalid value',
          value: name,
          detail: `may not contain '${forbidden}'`,
        }))
    }
  }
}

// The alphabet of k8s.io/apimachinery/pkg/util/rand: no vowels, no confusable characters.
const RANDOM_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789'

/** `utilrand.String(n)`: the suffix of `generateName` and of `kube-api-access-xxxxx`. */
export function randomSuffix(length = 5): string {
  let suffix = ''
  for (let index = 0; index < length; index++) suffix += RANDOM_ALPHABET[randomInt(RANDOM_ALPHABET.length)]
  return suffix
}

/** A new object UID (a random UUID, as kube-apiserver assigns). */
export function newUid(): string {
  return randomUUID()
}
