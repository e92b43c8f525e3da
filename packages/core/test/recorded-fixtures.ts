/**
 * Typed access to the recordings in `fixtures/` (see fixtures/README.md).
 * Kept in one place so that every test reads the same real-shaped data.
 */

import recordedTokens from './fixtures/service-account-tokens.json' with { type: 'json' }
import recordedReviews from './fixtures/token-review-statuses.json' with { type: 'json' }

/** How a recorded token came to exist. */
export type TokenSource = 'token_request' | 'legacy_secret' | 'altered' | 'garbage'

/** One token found in the kube-apiserver recordings, with what decoding it must give. */
export interface TokenFixture {
  readonly label: string
  readonly origin: string
  readonly source: TokenSource
  readonly token: string
  /** `recorded`: the recording decoded this token itself; `extracted`: decoded when the fixture was made. */
  readonly claimsSource?: 'recorded' | 'extracted'
  readonly expected:
    | {
        readonly kind: 'projected' | 'legacy'
        readonly header: Readonly<Record<string, unknown>>
        readonly claims: Readonly<Record<string, unknown>>
      }
    | { readonly error: { readonly code: string; readonly check: string } }
}

/** One TokenReview the recordings made: what was asked, and the `status` kube-apiserver answered. */
export interface TokenReviewFixture {
  readonly label: string
  readonly origin: string
  readonly requestedAudiences: readonly string[]
  readonly status: Readonly<Record<string, unknown>>
}

export const TOKEN_FIXTURES: readonly TokenFixture[] = recordedTokens.tokens as TokenFixture[]
export const TOKEN_REVIEW_FIXTURES: readonly TokenReviewFixture[] = recordedReviews.reviews

/** The fixture with this exact label; throws when there is none, so a renamed fixture fails loudly. */
export function tokenFixture(label: string): TokenFixture {
  const found = TOKEN_FIXTURES.find((fixture) => fixture.label === label)
  if (!found) throw new Error(`no token fixture labelled ${JSON.stringify(label)}`)
  return found
}

/** The review fixture with this exact label. */
export function tokenReviewFixture(label: string): TokenReviewFixture {
  const found = TOKEN_REVIEW_FIXTURES.find((fixture) => fixture.label === label)
  if (!found) throw new Error(`no TokenReview fixture labelled ${JSON.stringify(label)}`)
  return found
}

/** The decoded claims a fixture expects (for fixtures that decode). */
export function expectedClaims(fixture: TokenFixture): Readonly<Record<string, unknown>> {
  if (!('kind' in fixture.expected))
    throw new Error(`fixture ${JSON.stringify(fixture.label)} does not decode`)
  return fixture.expected.claims
}
