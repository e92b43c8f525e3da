/**
 * The one written form of an X.509 serial number across k8s-attest: the integer in lowercase
 * hex without leading zeros (RFC 5280 §4.1.2.2 serials are positive integers; DER may prefix a
 * zero byte to keep one positive, and Node and @peculiar/x509 print that byte). Logs, records
 * and the admin API all use this form, so an operator can match an agent's log line to
 * `agent show`.
 *
 * @example
 * ```ts
 * canonicalSerialNumber('00A1B2') // 'a1b2'
 * ```
 * @throws TypeError when `hex` is not hexadecimal digits (a caller bug: serials come from parsed certificates).
 */
export function canonicalSerialNumber(hex: string): string {
  if (!/^[0-9a-fA-F]+$/.test(hex)) throw new TypeError(`not a hex serial number: ${JSON.stringify(hex)}`)
  return hex.toLowerCase().replace(/^0+(?=.)/, '')
}
