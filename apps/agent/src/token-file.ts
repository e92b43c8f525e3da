import { readFile } from 'node:fs/promises'
import { MAX_TOKEN_BYTES, Secret } from '@k8s-attest/core'
import { AgentError } from './errors.ts'

/**
 * Reads the service account token at `path`, as SPIRE's `loadTokenFromFile` does, on every
 * attempt: kubelet rotates projected tokens by swapping a symlink in the volume, so the file is
 * opened anew each time and no handle is kept. Surrounding whitespace (a trailing newline from
 * a hand-made file) is removed.
 *
 * The token comes back as a core `Secret`, which prints as `[REDACTED]` through `String()`,
 * `JSON.stringify`, `util.inspect` and pino, so a token that ends up in a log call by mistake
 * still does not reach the log; only the request body builder calls `reveal()`.
 *
 * @throws {AgentError} `ATT_ERR_TOKEN_FILE_MISSING` (no such file: the volume is not mounted, or
 *   kubelet has not written it yet), `ATT_ERR_TOKEN_FILE_EMPTY`, `ATT_ERR_TOKEN_FILE_TOO_LARGE`
 *   (over core's `MAX_TOKEN_BYTES`, which the server would refuse anyway) or
 *   `ATT_ERR_TOKEN_FILE_UNREADABLE` (permissions, a directory…). Each names the path, never the
 *   content.
 */
export async function readTokenFile(path: string): Promise<Secret> {
  let content: Buffer
  try {
    content = await readFile(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new AgentError(
        'ATT_ERR_TOKEN_FILE_MISSING',
        `token file ${JSON.stringify(path)} does not exist; check the volume that projects the service account token`,
        { check: 'token_file', value: path, cause: error },
      )
    }
    throw new AgentError(
      'ATT_ERR_TOKEN_FILE_UNREADABLE',
      `token file ${JSON.stringify(path)} cannot be read (${code ?? String(error)})`,
      { check: 'token_file', value: path, cause: error },
    )
  }
  const token = content.toString('utf8').trim()
  if (token === '') {
    throw new AgentError('ATT_ERR_TOKEN_FILE_EMPTY', `token file ${JSON.stringify(path)} is empty`, {
      check: 'token_file',
      value: path,
    })
  }
  if (Buffer.byteLength(token) > MAX_TOKEN_BYTES) {
    throw new AgentError(
      'ATT_ERR_TOKEN_FILE_TOO_LARGE',
      `token file ${JSON.stringify(path)} holds ${Buffer.byteLength(token)} bytes; a service account token is at most ${MAX_TOKEN_BYTES}`,
      { check: 'token_file', value: path, expected: `at most ${MAX_TOKEN_BYTES} bytes` },
    )
  }
  return new Secret(token)
}
