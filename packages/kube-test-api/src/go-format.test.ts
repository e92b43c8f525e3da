import { describe, expect, it } from 'vitest'
import { goQuote, goQuoteList } from './go-format.ts'

describe('goQuote', () => {
  it('quotes like strconv.Quote', () => {
    expect(goQuote('spire-agent')).toBe('"spire-agent"')
    expect(goQuote('a "b" \\ c')).toBe('"a \\"b\\" \\\\ c"')
    expect(goQuote('tab\there\nnew')).toBe('"tab\\there\\nnew"')
    expect(goQuote('\u0001')).toBe('"\\x01"')
    expect(goQuote('zoë')).toBe('"zoë"')
  })
})

describe('goQuoteList', () => {
  it('formats like %q of a []string: space separated, no commas', () => {
    expect(goQuoteList(['spire-server'])).toBe('["spire-server"]')
    expect(goQuoteList(['other-audience', 'spire-server'])).toBe('["other-audience" "spire-server"]')
    expect(goQuoteList([])).toBe('[]')
  })
})
