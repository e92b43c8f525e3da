import { inspect } from 'node:util'

const REDACTED = '[redacted]'

/**
 * A secret read from the configuration (the admin bearer token). It prints as `[redacted]`
 * through `String()`, `JSON.stringify`, `console.log`/`util.inspect` and pino, so logging
 * the whole configuration object cannot leak it; the value is only reachable through
 * {@link SecretValue.reveal}, which makes every use visible in review (the idea of Effect's
 * `Redacted`).
 */
export class SecretValue {
  readonly #value: string

  constructor(value: string) {
    this.#value = value
  }

  /** The secret itself. Compare it with `crypto.timingSafeEqual`, never with `===`. */
  reveal(): string {
    return this.#value
  }

  toString(): string {
    return REDACTED
  }

  toJSON(): string {
    return REDACTED
  }

  [inspect.custom](): string {
    return REDACTED
  }
}
