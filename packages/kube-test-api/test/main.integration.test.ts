import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { parseCommandLine } from '../src/main.ts'
import { send } from './support/https-client.ts'

/** The standalone command: start, seed, print where it is, stop on SIGTERM. */

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url))

describe('main.ts', () => {
  it('starts with the demo seed, prints its URL and kubeconfig, and stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--conditions=@k8s-attest/source', MAIN, '--seed', 'demo'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const lines = createInterface({ input: child.stdout })
    let url = ''
    let kubeconfigPath = ''
    for await (const line of lines) {
      url = /serving (https:\/\/\S+)/.exec(line)?.[1] ?? url
      kubeconfigPath = /^kubeconfig: (.+)$/.exec(line)?.[1] ?? kubeconfigPath
      if (url !== '' && kubeconfigPath !== '') break
    }
    const kubeconfig = await readFile(kubeconfigPath, 'utf8')
    const ca = Buffer.from(
      /certificate-authority-data: "([^"]+)"/.exec(kubeconfig)?.[1] ?? '',
      'base64',
    ).toString()
    const token = /token: "([^"]+)"/.exec(kubeconfig)?.[1] ?? ''
    const pods = await send(url, ca, {
      method: 'GET',
      path: '/api/v1/namespaces/spire/pods',
      headers: { Authorization: `Bearer ${token}` },
    })
    expect(pods.status).toBe(200)
    expect((JSON.parse(pods.raw) as { items: unknown[] }).items).toHaveLength(3)
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const [code] = await exited
    expect(code).toBe(0)
  })
})

describe('parseCommandLine', () => {
  it('lists every problem at once', () => {
    expect(
      parseCommandLine(['--port', 'x', '--seed', 'y', '--signing-algorithm', 'HS256', '--issuer', 'nope']),
    ).toEqual({
      problems: [
        '--port must be an integer from 0 to 65535, got "x"',
        '--seed must be "none" or "demo", got "y"',
        '--signing-algorithm must be RS256 or ES256, got "HS256"',
        '--issuer must be a URL, got "nope"',
      ],
    })
    expect(parseCommandLine(['--bogus'])).toMatchObject({
      problems: [expect.stringContaining("Unknown option '--bogus'")],
    })
    expect(parseCommandLine(['--help'])).toBe('help')
  })

  it('turns options into test API options', () => {
    expect(
      parseCommandLine(['--port', '6443', '--signing-algorithm', 'ES256', '--kubeconfig', '/tmp/k']),
    ).toEqual({
      api: { host: '127.0.0.1', port: 6443, signingAlgorithm: 'ES256' },
      seed: 'none',
      kubeconfigPath: '/tmp/k',
    })
  })
})
