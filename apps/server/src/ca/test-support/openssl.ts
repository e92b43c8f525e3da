import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Looked up on PATH (Debian installs it as /usr/bin/openssl). */
const OPENSSL = 'openssl'

/**
 * Runs `openssl verify -x509_strict -purpose <purpose> -CAfile <bundle> <leaf>`, an
 * independent implementation checking what @peculiar/x509 produced. Resolves with openssl's
 * output; rejects with it when verification fails.
 *
 * When openssl is not installed the test fails with a message saying so, instead of being
 * skipped: a verification that silently did not run is worse than a visible failure.
 */
export async function opensslVerify(
  bundlePem: string,
  leafPem: string,
  purpose: 'sslclient' | 'sslserver',
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-attest-openssl-'))
  try {
    await writeFile(join(dir, 'bundle.pem'), bundlePem)
    await writeFile(join(dir, 'leaf.pem'), leafPem)
    const args = [
      'verify',
      '-x509_strict',
      '-purpose',
      purpose,
      '-CAfile',
      join(dir, 'bundle.pem'),
      join(dir, 'leaf.pem'),
    ]
    try {
      const { stdout } = await run(OPENSSL, args)
      return stdout.trim()
    } catch (error) {
      const failure = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string }
      if (failure.code === 'ENOENT') {
        throw new Error(
          'openssl is required by this test but was not found on PATH (Debian: apt-get install openssl)',
          {
            cause: error,
          },
        )
      }
      throw new Error(`openssl verify failed: ${failure.stdout ?? ''}${failure.stderr ?? ''}`.trim(), {
        cause: error,
      })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * An EC public key (SubjectPublicKeyInfo DER) as OpenSSL re-writes it with `openssl ec -pubin
 * -param_enc explicit` (the curve's parameters spelled out instead of its OID) or `-conv_form
 * compressed` (the point's x coordinate and a sign): encodings node:crypto never writes.
 */
export async function opensslEcPublicKey(
  spki: Uint8Array,
  form: 'explicit-parameters' | 'compressed-point',
): Promise<Uint8Array> {
  const dir = await mkdtemp(join(tmpdir(), 'k8s-attest-openssl-'))
  try {
    const input = join(dir, 'in.der')
    const output = join(dir, 'out.der')
    await writeFile(input, spki)
    const option = form === 'explicit-parameters' ? ['-param_enc', 'explicit'] : ['-conv_form', 'compressed']
    await run(OPENSSL, [
      'ec',
      '-pubin',
      '-inform',
      'DER',
      '-in',
      input,
      ...option,
      '-pubout',
      '-outform',
      'DER',
      '-out',
      output,
    ])
    return new Uint8Array(await readFile(output))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
