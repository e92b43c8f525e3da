import { readFileSync } from 'node:fs'
import type { KubeConfig } from '@kubernetes/client-node'

/** client-node's authenticator plug-in (`KubeConfig.addAuthenticator`), which it does not export by name. */
type Authenticator = Parameters<KubeConfig['addAuthenticator']>[0]

/**
 * How long a token read from a `tokenFile` is used before the file is read again: one minute,
 * as client-go's cached file token source. A kubelet-rotated projected token is replaced well
 * before it expires (at 80 % of its lifetime), so a minute-old copy is always still valid.
 */
export const TOKEN_FILE_REREAD_MS = 60_000

/** Options of {@link TokenFileAuthenticator}. */
export interface TokenFileAuthenticatorOptions {
  /** The kubeconfig user entry whose `tokenFile` this is. */
  readonly userName: string
  /** Absolute path of the token file. */
  readonly path: string
  /** Milliseconds since the epoch. Default `Date.now`. */
  readonly now?: () => number
}

/**
 * The bearer token of kubectl's `tokenFile` user field, which @kubernetes/client-node 2.0.1
 * does not read (it knows only its own `token-file`, read once at load): the file is read on
 * first use and again once {@link TOKEN_FILE_REREAD_MS} have passed, so a rotated token is
 * picked up, and surrounding whitespace is trimmed, as client-go does. If a re-read fails, the
 * last token read keeps being used (client-go's behaviour too: a token being rewritten must
 * not fail calls); the first read must succeed.
 */
export class TokenFileAuthenticator implements Authenticator {
  readonly #options: TokenFileAuthenticatorOptions
  readonly #now: () => number
  #token: string | undefined
  #readAt = Number.NEGATIVE_INFINITY

  constructor(options: TokenFileAuthenticatorOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  isAuthProvider(user: { readonly name: string }): boolean {
    return user.name === this.#options.userName
  }

  async applyAuthentication(_user: unknown, opts: { headers?: unknown }): Promise<void> {
    const headers = (opts.headers ?? {}) as Record<string, string>
    headers.Authorization = `Bearer ${this.token()}`
    opts.headers = headers
  }

  /** The current token, re-read from the file when the last read is a minute old. */
  token(): string {
    const now = this.#now()
    if (this.#token !== undefined && now - this.#readAt < TOKEN_FILE_REREAD_MS) return this.#token
    try {
      this.#token = this.#read()
      this.#readAt = now
    } catch (error) {
      if (this.#token === undefined) throw error
    }
    return this.#token
  }

  #read(): string {
    const { path, userName } = this.#options
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (cause) {
      const reason = cause instanceof Error ? cause.message : String(cause)
      throw new Error(
        `cannot read the tokenFile ${JSON.stringify(path)} of kubeconfig user "${userName}": ${reason}`,
        {
          cause,
        },
      )
    }
    const token = text.trim()
    if (token === '') {
      throw new Error(`the tokenFile ${JSON.stringify(path)} of kubeconfig user "${userName}" is empty`)
    }
    return token
  }
}
