import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** What the audit found. */
export interface LogAudit {
  readonly logFiles: number
  readonly logLines: number
  readonly secrets: number
  /** One entry per leaking line: which file, what leaked, and the line cut short around it. */
  readonly leaks: readonly string[]
}

/** Shapes that are a secret whoever minted them: a PEM private key, a compact JWS. */
const SECRET_SHAPES: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'a PEM private key', pattern: /PRIVATE KEY-----/ },
  { name: 'a JWT', pattern: /eyJ[\w-]{10,}\.eyJ[\w-]{10,}\.[\w-]{20,}/ },
]

/**
 * Scans every captured log line for every recorded secret (whole, and for a JWT its signature
 * alone, the part that makes it usable) and for the secret shapes.
 */
export function auditCapturedLogs(dir: string): LogAudit {
  const secrets = new Set<string>()
  const secretsDir = join(dir, 'secrets')
  if (existsSync(secretsDir)) {
    for (const file of readdirSync(secretsDir)) {
      for (const record of readFileSync(join(secretsDir, file), 'utf8').split('\n')) {
        if (record === '') continue
        const secret = Buffer.from(record, 'base64').toString('utf8')
        secrets.add(secret)
        const signature = secret.split('.')[2]
        if (signature !== undefined && signature.length >= 20) secrets.add(signature)
      }
    }
  }
  const leaks: string[] = []
  let logLines = 0
  const logsDir = join(dir, 'logs')
  const files = existsSync(logsDir) ? readdirSync(logsDir) : []
  for (const file of files) {
    for (const line of readFileSync(join(logsDir, file), 'utf8').split('\n')) {
      if (line === '') continue
      logLines++
      const shape = SECRET_SHAPES.find(({ pattern }) => pattern.test(line))
      const secret = shape === undefined ? [...secrets].find((s) => line.includes(s)) : undefined
      if (shape === undefined && secret === undefined) continue
      const what = shape?.name ?? `a minted secret (${secret?.slice(0, 8)}…)`
      leaks.push(`${file}: ${what} in: ${line.slice(0, 300)}`)
    }
  }
  return { logFiles: files.length, logLines, secrets: secrets.size, leaks }
}
