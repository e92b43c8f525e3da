/**
 * Core must stay pure: no I/O, no environment, no Node.js built-ins, no HTTP
 * or Kubernetes clients — so that the server and the agent can share it and
 * every function in it can be tested by value. This test reads the sources
 * (not the tests) and fails on any import outside an allow-list and on any
 * use of `process` or `Buffer`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const SOURCE_ROOT = fileURLToPath(new URL('../src', import.meta.url))

/** Import specifiers core may use: its own modules and its two declared dependencies. */
const ALLOWED_SPECIFIER = /^(?:\.{1,2}\/.*|jose(?:\/[a-z0-9]+)?|typebox(?:\/[a-z]+)?)$/

/** Globals that mean I/O, environment or Node.js-only APIs. */
const FORBIDDEN_GLOBALS = [
  { pattern: /\bprocess\s*(?:\.|\[)/, what: 'process (environment, exit, cwd…)' },
  {
    pattern: /\bBuffer\b/,
    what: 'Buffer (Node.js only; use Uint8Array, TextEncoder/TextDecoder, jose base64url)',
  },
  { pattern: /\brequire\s*\(/, what: 'require()' },
  { pattern: /\b(?:fetch|setTimeout|setInterval|setImmediate)\s*\(/, what: 'network or timers' },
]

/** The non-test TypeScript files under `dir`, recursively. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/**
 * Every problem in one file's source text. Comments are removed first so that
 * documentation may name what the code must not do; string contents stay, so
 * a `"spiffe://…"` literal is never mistaken for a comment.
 */
export function findImpurities(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const problems: string[] = []
  const specifiers = [
    ...code.matchAll(/\b(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*['"]([^'"]+)['"]/g),
    ...code.matchAll(/\bimport\s*\(\s*['"`]([^'"`]+)['"`]/g),
  ].map((match) => match[1] ?? '')
  for (const specifier of specifiers) {
    if (!ALLOWED_SPECIFIER.test(specifier)) problems.push(`imports ${JSON.stringify(specifier)}`)
  }
  if (/\bimport\s*\(\s*[^'"`\s]/.test(code)) problems.push('imports a computed module name')
  for (const { pattern, what } of FORBIDDEN_GLOBALS) {
    if (pattern.test(code)) problems.push(`uses ${what}`)
  }
  return problems
}

describe('core is pure', () => {
  const files = sourceFiles(SOURCE_ROOT)

  it('has sources to check', () => {
    expect(files.map((file) => relative(SOURCE_ROOT, file))).toEqual(
      expect.arrayContaining([
        'index.ts',
        'errors.ts',
        'wire.ts',
        'service-account-token.ts',
        'internal/quote.ts',
      ]),
    )
  })

  it.each(files.map((file) => [relative(SOURCE_ROOT, file), file]))(
    'src/%s imports only relative modules, jose and typebox, and touches no process, Buffer or I/O',
    (_name, file) => {
      expect(findImpurities(readFileSync(file, 'utf8'))).toEqual([])
    },
  )
})

describe('the purity scanner itself', () => {
  it.each([
    [`import { readFileSync } from 'node:fs'`, 'imports "node:fs"'],
    [`import crypto from 'crypto'`, 'imports "crypto"'],
    [`import {\n  request,\n} from 'undici'`, 'imports "undici"'],
    [`export { fastify } from 'fastify'`, 'imports "fastify"'],
    [`import type { V1TokenReview } from '@kubernetes/client-node'`, 'imports "@kubernetes/client-node"'],
    [`import 'reflect-metadata'`, 'imports "reflect-metadata"'],
    [`const fs = await import('node:fs')`, 'imports "node:fs"'],
    [`const m = await import(name)`, 'imports a computed module name'],
    [`const level = process.env.LOG_LEVEL`, 'uses process (environment, exit, cwd…)'],
    [`const env = process['env']`, 'uses process (environment, exit, cwd…)'],
    [
      `const bytes = Buffer.from(text, 'base64url')`,
      'uses Buffer (Node.js only; use Uint8Array, TextEncoder/TextDecoder, jose base64url)',
    ],
    [`const x = require('x')`, 'uses require()'],
    [`await fetch(url)`, 'uses network or timers'],
  ])('flags %j', (source, problem) => {
    expect(findImpurities(source)).toContain(problem)
  })

  it('accepts relative imports, jose and typebox, and ignores comments', () => {
    const source = [
      `import { base64url } from 'jose'`,
      `import * as base64url from 'jose/base64url'`,
      `import { Type } from 'typebox'`,
      `import { Compile } from 'typebox/compile'`,
      `import { AttestError } from './errors.ts'`,
      `/** Never reads process.env or a Buffer. */`,
      `// import fs from 'node:fs'`,
      `const scheme = 'spiffe://'`,
    ].join('\n')
    expect(findImpurities(source)).toEqual([])
  })
})
