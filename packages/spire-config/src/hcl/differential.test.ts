// biome-ignore-all lint/suspicious/noTemplateCurlyInString: "${…}" is HCL syntax under test, not a template literal.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse as hcl2json } from '@cdktf/hcl2json'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseHcl } from './parser.ts'
import { HCL_TOKEN_PIECES } from './test-support/token-soup.ts'
import { toDocument } from './to-document.ts'

/**
 * Holds this package's parser to `@cdktf/hcl2json` (HashiCorp's own HCL parser and JSON
 * converter, compiled to WebAssembly), which the configuration loaders used before: every file
 * here must give the same document, and every refused file must be refused by both.
 */

/** The document our parser gives, or `refused` with its first message. */
function ours(text: string): { document: unknown } | { refused: string } {
  const parsed = parseHcl(text)
  if (!parsed.ok) return { refused: parsed.diagnostics[0]?.message ?? '' }
  try {
    return { document: toDocument(parsed.body, text) }
  } catch (error) {
    return { refused: (error as Error).message }
  }
}

/**
 * The one deliberate difference: two equal keys in one object. HCL lets the last win; here it is
 * refused, as two equal arguments of a body are (an allow-list must not vanish unseen).
 */
const DUPLICATE_OBJECT_KEY = /^object key .* is set twice/

/** Holds `text`'s two readings to each other: the same document, or both refused. */
function expectSameReading(
  actual: { document: unknown } | { refused: string },
  expected: { document: unknown } | { refused: string },
  text: string,
): void {
  if ('refused' in actual && DUPLICATE_OBJECT_KEY.test(actual.refused)) return
  if ('refused' in expected) expect(actual, text).toHaveProperty('refused')
  else expect(JSON.stringify(actual), text).toBe(JSON.stringify(expected))
}

async function theirs(text: string): Promise<{ document: unknown } | { refused: string }> {
  try {
    return { document: await hcl2json('test.hcl', text) }
  } catch (error) {
    return { refused: (error as Error).message }
  }
}

function repositoryFile(path: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../../${path}`, import.meta.url)), 'utf8')
}

/** The configuration files the project ships: they must read the same, byte for byte. */
const SHIPPED_FILES = [
  'apps/server/conf/server.conf',
  'apps/agent/conf/agent.conf',
  'deploy/base/server.conf',
  'deploy/base/agent.conf',
]

/** Valid HCL, one feature (or one corner of it) per entry. */
const ACCEPTED: Record<string, string> = {
  empty: '',
  'only comments': '# a\n// b\n/* c\n d */\n',
  numbers: 'a = 1\nb = 1.5\nc = 1e3\nd = 2.5E-2\ne = 0\nf = 123456789012\n',
  'a number too large for JSON': 'a = 1e400\nb = -1e400\n',
  'null and large numbers in a template': 'a = "${null} x"\nb = "${1e20} ${0.000001} ${12.5}"\n',
  'keys in Go order': 'b = 1\nB = 2\na = { z = 1, "é" = 2, y = 3, "Z" = 4 }\nblk "z" {\n}\nblk "a" {\n}\n',
  'negative numbers and not': 'a = -1\nb = -0.5\nc = !true\nd = !false\ne = - 3\n',
  'bool and null': 'a = true\nb = false\nc = null\n',
  'strings and escapes': 'a = "x"\nb = "tab\\tnew\\nquote\\"back\\\\"\nc = "\\u00e9\\U0001F600"\nd = ""\n',
  'escaped template sequences': 'a = "$${x} and %%{y}"\nb = "$ and % alone, ${"$"}{"\n',
  'unicode text and identifiers': 'é = "ünïcödé ✓"\nnaïve-name = "日本"\n',
  'interpolation alone': 'a = "${1}"\nb = "${true}"\nc = "${"x"}"\nd = "${var.x}"\n',
  'interpolation in text':
    'a = "pre ${var.x} post"\nb = "${1}${2}"\nc = "n=${1.5}"\nd = "${true} ${false}"\n',
  'strip markers': 'a = "x   ${~ "y" ~}   z"\n',
  'if directive': 'a = "%{if var.on}yes%{else}no%{endif}"\nb = "%{ if x }only%{ endif }"\n',
  'for directive': 'a = "%{for v in var.list}${v},%{endfor}"\nb = "%{for k, v in m}${k}=${v}%{endfor}"\n',
  'conditional in a template': 'a = "${var.x ? "a" : "b"}"\nb = "${c ? 1 : 2}"\n',
  heredoc: 'a = <<EOF\nline one\n  line two\nEOF\n',
  'indented heredoc': 'a = <<-EOT\n    one\n      two\n\n    three\n    EOT\n',
  'heredoc with interpolation': 'a = <<EOF\nhost ${var.host}\n$${literal}\nEOF\n',
  'indented heredoc starting with interpolation': 'a = <<-EOF\n  ${x} one\n    two\n  EOF\n',
  'empty heredoc': 'a = <<EOF\nEOF\n',
  'a heredoc marker with trailing spaces': 'a = <<EOF\nx\nEOF  \nb = <<-EOT\n  y\n  EOT\t\n',
  'a byte order mark': '\ufeffa = 1\n',
  lists: 'a = []\nb = [1, "two", true, null]\nc = [\n  "x",\n  "y",\n]\nd = [[1], [2, [3]]]\n',
  objects:
    'a = {}\nb = { x = 1, y = "two" }\nc = {\n  "quoted key" = 1\n  bare: 2\n  nested = { deep = [1] }\n}\nd = { 1 = "one", true = "t", null = "n" }\n',
  'object keys from templates and references': 'a = { "${x}" = 1, "p${y}" = 2, var.k = 3, (z) = 4 }\n',
  'references and traversals':
    'a = var.x\nb = local.list[0]\nc = a.b.c\nd = x[*].id\ne = y.*.id\nf = m["key"]\ng = t.0\n',
  'function calls':
    'a = upper("x")\nb = join(",", ["a", "b"])\nc = f()\nd = g(list...)\ne = provider::ns::fn(1)\n',
  operators: 'a = 1 + 2 * 3\nb = x == y && !z || w\nc = (1 + 2) / 3 % 4\nd = a >= b\ne = "a" != "b"\n',
  conditional: 'a = x ? 1 : 2\nb = x > 1 ? "big" : "small"\n',
  'for expressions':
    'a = [for v in list : v if v != ""]\nb = {for k, v in map : k => v...}\nc = [for i, v in l : i]\n',
  'an unlabeled block': 'server {\n  bind_address = "127.0.0.1"\n  bind_port = 8081\n}\n',
  'repeated blocks': 'rule {\n  a = 1\n}\nrule {\n  a = 2\n}\n',
  'labeled blocks':
    'plugins {\n  NodeAttestor "k8s_psat" {\n    plugin_data {\n      clusters = { demo = { service_account_allow_list = ["spire:spire-agent"] } }\n    }\n  }\n  DataStore "sql" {\n    plugin_data { database_type = "sqlite3" }\n  }\n}\n',
  'two labels and bare labels':
    'resource "aws" "one" {\n}\nresource "aws" "two" {\n  x = 1\n}\nthing bare {\n}\n',
  'single-line blocks': 'a {}\nb { x = 1 }\nc "l" { y = "z" }\n',
  'a block and an attribute of the same name': 'x {\n  a = 1\n}\nx = 2\n',
  'comments everywhere':
    'a = 1 # trailing\nb = [ # in a list\n  1, // again\n  /* inline */ 2,\n]\n/* before a block */\nblk {\n  // inside\n  c = 3\n}\n',
  'CRLF line ends': 'a = 1\r\nb {\r\n  c = "d"\r\n}\r\n',
  'no final newline': 'a = 1',
  'expressions spanning lines in brackets': 'a = f(\n  1,\n  2,\n)\nb = (\n  1 +\n  2\n)\nc = x[\n  0\n]\n',
}

/** Invalid HCL: both parsers must refuse it. */
const REFUSED: Record<string, string> = {
  'a missing value': 'a = \n',
  'an unterminated string': 'a = "x\n',
  'an unterminated string at the end': 'a = "x',
  'a duplicate argument': 'a = 1\na = 2\n',
  'single quotes': "a = 'x'\n",
  'a semicolon': 'a = 1;\n',
  'an invalid escape': 'a = "\\q"\n',
  'a short unicode escape': 'a = "\\u12"\n',
  'an unclosed block': 'b {\n  a = 1\n',
  'an unclosed list': 'a = [1, 2\n',
  'an unclosed object': 'a = {\n  b = 1\n',
  'an unclosed heredoc': 'a = <<EOF\ntext\n',
  'an unclosed comment': 'a = 1 /* never\n',
  'two arguments on a line': 'a = 1 b = 2\n',
  'a brace on the next line': 'b\n{\n}\n',
  'a quoted argument name': '"a" = 1\n',
  'an interpolated label': 'b "${x}" {\n}\n',
  'two arguments in a single-line block': 'b { x = 1, y = 2 }\n',
  'a nested block on one line': 'b { c {} }\n',
  'mixed label counts': 'b "x" {\n}\nb {\n}\n',
  'a negated bool': 'a = -true\n',
  'a not of a number': 'a = !1\n',
  'an unclosed if directive': 'a = "%{if x}y"\n',
  'an endif alone': 'a = "%{endif}"\n',
  'a stray closing brace': 'a = 1\n}\n',
  'a list without commas': 'a = [1 2]\n',
  'an object without separators': 'a = { b 1 }\n',
  'an invalid character': 'a = 1 @ 2\n',
  'a for without in': 'a = [for v list : v]\n',
  'an expansion before the last argument': 'a = f(x..., y)\n',
  'a block with an equals sign and a label': 'b "x" = {\n}\n',
}

describe('the HCL parser, against @cdktf/hcl2json', () => {
  for (const path of SHIPPED_FILES) {
    it(`reads ${path} as hcl2json does`, async () => {
      const text = repositoryFile(path)
      expect(JSON.stringify(ours(text))).toBe(JSON.stringify(await theirs(text)))
    })
  }

  for (const [name, text] of Object.entries(ACCEPTED)) {
    it(`accepts ${name} as hcl2json does`, async () => {
      const expected = await theirs(text)
      expect(expected, 'hcl2json accepts it (the case itself is valid HCL)').toHaveProperty('document')
      // As text, so that key order (Go's: sorted) is compared too.
      expect(JSON.stringify(ours(text))).toBe(JSON.stringify(expected))
    })
  }

  for (const [name, text] of Object.entries(REFUSED)) {
    it(`refuses ${name}, as hcl2json does`, async () => {
      expect(await theirs(text), 'hcl2json refuses it (the case itself is invalid HCL)').toHaveProperty(
        'refused',
      )
      const result = ours(text)
      expect(result).toHaveProperty('refused')
      expect((result as { refused: string }).refused).not.toBe('')
    })
  }
})

/**
 * Pieces of quoted-string text that matter to the scanner, as written in the file: escapes (one
 * invalid), template openers alone and escaped, whole sequences, a stray quote, Unicode.
 */
const STRING_PIECES = [
  ...['a', ' ', 'é', '😀', '$', '%', '{', '}', '"'],
  ...['\\n', '\\t', '\\"', '\\\\', '\\u00e9', '\\q'],
  ...['$${', '%%{', '${1}', '${"x"}', '${var.x}', '%{if x}y%{endif}'],
]

/** HCL text built from random values, blocks and layout, for the property below. */
function hclDocumentArbitrary(): fc.Arbitrary<string> {
  const identifier = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_-]{0,6}$/)
  // Characters that matter to the scanner, raw: quotes, escapes, template openers, Unicode.
  const stringBody = fc
    .array(fc.constantFrom(...STRING_PIECES), { maxLength: 6 })
    .map((pieces) => pieces.join(''))
  const expression: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.oneof(
        fc.integer({ min: -1000, max: 1_000_000 }).map(String),
        fc.constantFrom(
          '1.5',
          '0.25',
          '1e3',
          '2E-2',
          'true',
          'false',
          'null',
          '-x',
          '!true',
          'var.a[0]',
          'f(1, 2)',
        ),
        stringBody.map((body) => `"${body}"`),
      ),
      fc.array(tie('value'), { maxLength: 3 }).map((items) => `[${items.join(', ')}]`),
      fc
        .array(
          fc.tuple(
            fc.oneof(
              identifier,
              stringBody.map((body) => `"${body}"`),
            ),
            tie('value'),
          ),
          { maxLength: 3 },
        )
        .map((entries) => `{ ${entries.map(([key, value]) => `${key} = ${value}`).join(', ')} }`),
    ),
  })).value
  const comment = fc.constantFrom('', ' # note', ' // note', ' /* note */')
  const body: fc.Arbitrary<string> = fc.letrec<{ body: string }>((tie) => ({
    body: fc
      .array(
        fc.oneof(
          { depthSize: 'small', withCrossShrink: true },
          fc
            .tuple(identifier, expression, comment)
            .map(([name, value, note]) => `${name} = ${value}${note}\n`),
          fc
            .tuple(
              fc.constantFrom('plugins', 'server', 'NodeAttestor'),
              fc.array(identifier, { maxLength: 2 }),
              tie('body'),
            )
            .map(
              ([type, labels, inner]) =>
                `${type} ${labels.map((label) => `"${label}"`).join(' ')} {\n${inner}}\n`,
            ),
        ),
        { maxLength: 4 },
      )
      .map((items) => items.join('')),
  })).body
  return body
}

describe('the one difference from @cdktf/hcl2json', () => {
  it('refuses an object key set twice, where hcl2json lets the last one win', async () => {
    const text =
      'clusters = {\n  "demo" = { allow = ["spire:spire-agent"] }\n  demo = { allow = ["other:agent"] }\n}\n'
    expect(await theirs(text)).toEqual({ document: { clusters: { demo: { allow: ['other:agent'] } } } })
    expect(ours(text)).toEqual({
      refused: 'object key "demo" is set twice (first at 2:3); each key of an object may be set only once',
    })
  })
})

describe('the HCL parser, against @cdktf/hcl2json, on generated files', () => {
  it('accepts what hcl2json accepts, with the same document, and refuses what it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(hclDocumentArbitrary(), async (text) => {
        expectSameReading(ours(text), await theirs(text), text)
      }),
      { numRuns: 400 },
    )
  })
})

describe('the HCL parser, against @cdktf/hcl2json, on token soup', () => {
  it('accepts and refuses what hcl2json does, with the same document', async () => {
    const piece = fc.constantFrom(...HCL_TOKEN_PIECES)
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { maxLength: 24 }), async (pieces) => {
        const text = pieces.join('')
        expectSameReading(ours(text), await theirs(text), text)
      }),
      { numRuns: 1_000 },
    )
  })
})
