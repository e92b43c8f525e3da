import type { FieldError } from '../status.ts'

/**
 * The keys of a Secret's `data` and of a ConfigMap's `data` and
 * `binaryData`, checked as `validation.IsConfigMapKey` checks them: at most
 * 253 characters, `[-._a-zA-Z0-9]+`, and not `.`, `..` or `..`-prefixed,
 * because kubelet turns every key into a file name in a volume.
 */

const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/
const MAX_KEY_LENGTH = 253

// kube-apiserver's text has the double spaces after the examples' commas.
const CONFIG_KEY_MESSAGE =
  "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

/** The messages of `IsConfigMapKey(key)`, in its order. */
function configKeyMessages(key: string): string[] {
  const messages: string[] = []
  if (key.length > MAX_KEY_LENGTH) messages.push(`must be no more than ${MAX_KEY_LENGTH} characters`)
  if (!CONFIG_KEY.test(key)) messages.push(CONFIG_KEY_MESSAGE)
  if (key === '.') messages.push("must not be '.'")
  else if (key === '..') messages.push("must not be '..'")
  else if (key.startsWith('..')) messages.push("must not start with '..'")
  return messages
}

/** One `Invalid value` per message for `key`, at `<mapField>[<key>]` (`data[a b]`). */
export function validateConfigKey(key: string, mapField: string): FieldError[] {
  return configKeyMessages(key).map((detail) => ({
    field: `${mapField}[${key}]`,
    type: 'Invalid value',
    value: key,
    detail,
  }))
}
