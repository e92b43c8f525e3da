/**
 * A wrapper that keeps a secret string (a service account token, the admin
 * bearer token) out of logs and error output by accident, after Effect's
 * `Redacted`: the value is reachable only through an explicit call.
 */

/** What a {@link Secret} prints as, whichever way it is printed. */
export const REDACTED = '[REDACTED]'

/**
 * The key Node.js' `util.inspect` (and so `console.log`) looks up for a custom
 * rendering. It is a registered symbol, so core can provide the method without
 * importing `node:util` and stay free of Node.js built-ins.
 */
const INSPECT_CUSTOM: unique symbol = Symbol.for('nodejs.util.inspect.custom')

/**
 * A secret string held in memory. It prints as {@link REDACTED} through
 * `String()` and template literals, `JSON.stringify` (and therefore pino, which
 * serialises log objects the same way), and `util.inspect`/`console.log`, so a
 * secret that ends up in a log call or a dumped configuration object by
 * mistake still does not reach the output. The value is kept in a private
 * field, invisible to `Object.keys`, spreading and `structuredClone`; only
 * {@link Secret.reveal} returns it, which makes every use visible in review.
 *
 * @example
 * ```ts
 * const token = new Secret('eyJhbGciOi…')
 * `${token}`                   // "[REDACTED]"
 * JSON.stringify({ token })    // '{"token":"[REDACTED]"}'
 * token.reveal()               // "eyJhbGciOi…", for the one place that sends it
 * ```
 */
export class Secret {
  readonly #value: string

  /** @throws {TypeError} when `value` is not a string. */
  constructor(value: string) {
    if (typeof value !== 'string') {
      throw new TypeError(`a Secret holds a string; got ${value === null ? 'null' : typeof value}`)
    }
    this.#value = value
  }

  /**
   * The secret itself, for the one place that must send or compare it.
   * Compare it with `crypto.timingSafeEqual`, never with `===`.
   */
  reveal(): string {
    return this.#value
  }

  /** {@link REDACTED}: what `String()` and template literals show. */
  toString(): string {
    return REDACTED
  }

  /** {@link REDACTED}: what `JSON.stringify` and pino write. */
  toJSON(): string {
    return REDACTED
  }

  /** {@link REDACTED}: what `util.inspect` and `console.log` show. */
  [INSPECT_CUSTOM](): string {
    return REDACTED
  }
}
