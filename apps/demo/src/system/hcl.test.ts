import { describe, expect, it } from 'vitest'
import { hcl, hclList } from './hcl.ts'

describe('hcl', () => {
  it('quotes and escapes like JSON', () => {
    expect(hcl('/tmp/a "b"\\c')).toBe('"/tmp/a \\"b\\"\\\\c"')
  })

  it("escapes HCL's template sequences, which JSON leaves alone", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an HCL template sequence, on purpose
    expect(hcl('/data/${HOME}/%{if}')).toBe('"/data/$${HOME}/%%{if}"')
  })

  it('writes lists of strings', () => {
    expect(hclList(['spire:spire-agent', 'kube-system:agent'])).toBe(
      '["spire:spire-agent", "kube-system:agent"]',
    )
    expect(hclList([])).toBe('[]')
  })
})
