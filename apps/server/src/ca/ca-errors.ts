/**
 * A certificate signing request was refused. Same code as `@k8s-attest/core`'s, so the server
 * maps it to the same HTTP status (400).
 */
export const ATT_ERR_CSR_INVALID = 'ATT_ERR_CSR_INVALID'
/** The CA files in `data_dir` cannot be used as they are; the server must not start. */
export const ATT_ERR_CA_STORE_INVALID = 'ATT_ERR_CA_STORE_INVALID'

/** Which check refused a CSR, in the order they run. */
export type CsrCheck = 'size' | 'encoding' | 'public-key' | 'signature'

/**
 * A CSR from an agent was refused. `check` names the check that failed and `expected` what
 * it wanted, so a refusal can be logged and answered without parsing the message.
 */
export class CsrError extends Error {
  override readonly name = 'CsrError'
  readonly code = ATT_ERR_CSR_INVALID
  readonly check: CsrCheck
  readonly expected: string

  constructor(check: CsrCheck, message: string, expected: string, options?: { readonly cause?: unknown }) {
    super(message, options)
    this.check = check
    this.expected = expected
  }
}

/**
 * The CA material in `data_dir/ca` is inconsistent or belongs to another trust domain. The
 * server refuses to start rather than replace a key (that would silently invalidate every
 * agent's trust bundle); `path` names the file to look at.
 */
export class CaStoreError extends Error {
  override readonly name = 'CaStoreError'
  readonly code = ATT_ERR_CA_STORE_INVALID
  readonly path: string

  constructor(path: string, message: string, options?: { readonly cause?: unknown }) {
    super(`${path}: ${message}`, options)
    this.path = path
  }
}
