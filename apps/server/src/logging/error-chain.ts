/** How many causes {@link describeErrorChain} follows: enough for fetch → socket → TLS, bounded against cycles. */
const MAX_CAUSES = 8

/**
 * An error's message followed by those of its causes, each with its `code` when the message
 * does not already say it, e.g. `fetch failed: other side closed (UND_ERR_SOCKET)`.
 *
 * Why: undici's fetch rejects with a bare `TypeError: fetch failed` and puts what happened (a
 * refused connection, an HTTP/2 GOAWAY, a TLS failure) in `cause`; a log line or message built
 * from the outer error alone says nothing an operator can act on.
 */
export function describeErrorChain(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let depth = 0; depth <= MAX_CAUSES && current !== undefined && current !== null; depth++) {
    const part = describeOne(current)
    if (part !== '' && !parts.some((seen) => seen.includes(part))) parts.push(part)
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.join(': ') || String(error)
}

function describeOne(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const message = error.message || error.name
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message
}
