import { canonicalSerialNumber, sortSelectors, spiffeIdProblem } from '@k8s-attest/core'
import {
  ATTESTORS,
  type AttestationInput,
  type Attestor,
  DEFAULT_PAGE_SIZE,
  MAX_PAGE_SIZE,
  MAX_SEARCH_LENGTH,
  type Selector,
} from './agent-store.ts'

/*
 * Checks of what server code hands the store. A failure here is a bug in the
 * caller (the attestation flow has already validated everything that came from
 * outside), so each one throws a TypeError naming the argument and what was
 * expected, as jose does for bad API use.
 */

const SERIAL_PATTERN = /^[0-9a-f]{1,40}$/i
const FINGERPRINT_PATTERN = /^[0-9a-f]{64}$/

/** Throws unless `spiffeId` looks like a SPIFFE ID (the flow builds it; the store only guards its key). */
export function checkSpiffeId(spiffeId: unknown, name = 'spiffeId'): string {
  if (typeof spiffeId !== 'string')
    throw new TypeError(`"${name}" must be a SPIFFE ID, got ${describe(spiffeId)}`)
  const problem = spiffeIdProblem(spiffeId)
  if (problem !== undefined) throw new TypeError(`"${name}" must be a SPIFFE ID (${problem})`)
  return spiffeId
}

/** Throws unless `attestor` is one of {@link ATTESTORS}. */
export function checkAttestor(attestor: unknown, name = 'attestor'): Attestor {
  if (!(ATTESTORS as readonly unknown[]).includes(attestor)) {
    throw new TypeError(`"${name}" must be one of ${ATTESTORS.join(', ')}, got ${describe(attestor)}`)
  }
  return attestor as Attestor
}

/** Throws unless `value` is a non-empty string. */
export function checkNonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`"${name}" must be a non-empty string, got ${describe(value)}`)
  }
  return value
}

/** Throws unless `date` is a valid `Date`. */
export function checkDate(date: unknown, name: string): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new TypeError(`"${name}" must be a valid Date, got ${describe(date)}`)
  }
  return date
}

/**
 * Throws unless `serial` is 1 to 40 hex digits; returns it in the stored form
 * (lowercase, no leading zeros), so that serials compare equal however the
 * caller formatted them.
 */
export function normalizeSerial(serial: unknown, name = 'svidSerial'): string {
  if (typeof serial !== 'string' || !SERIAL_PATTERN.test(serial)) {
    throw new TypeError(`"${name}" must be 1 to 40 hex digits, got ${describe(serial)}`)
  }
  return canonicalSerialNumber(serial)
}

/** Throws unless `fingerprint` is a SHA-256 in lowercase hex. */
export function checkFingerprint(fingerprint: unknown): string {
  if (typeof fingerprint !== 'string' || !FINGERPRINT_PATTERN.test(fingerprint)) {
    throw new TypeError(
      `"fingerprint" must be a SHA-256 digest as 64 lowercase hex digits, got ${describe(fingerprint)}`,
    )
  }
  return fingerprint
}

/** Throws unless every selector has a non-empty `type` and a string `value`; returns them sorted and unique. */
export function normalizeSelectors(selectors: unknown, name = 'selectors'): Selector[] {
  if (!Array.isArray(selectors)) {
    throw new TypeError(`"${name}" must be an array of { type, value }, got ${describe(selectors)}`)
  }
  const checked = selectors.map((selector: unknown, index): Selector => {
    const { type, value } = (selector ?? {}) as { type?: unknown; value?: unknown }
    if (typeof type !== 'string' || type.length === 0 || typeof value !== 'string') {
      throw new TypeError(
        `"${name}[${index}]" must be { type: non-empty string, value: string }, got ${describe(selector)}`,
      )
    }
    return { type, value }
  })
  return sortSelectors(checked)
}

/** An {@link AttestationInput} checked and in stored form. */
export function normalizeAttestationInput(input: AttestationInput): AttestationInput {
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`"input" must be an object, got ${describe(input)}`)
  }
  return {
    spiffeId: checkSpiffeId(input.spiffeId, 'input.spiffeId'),
    attestor: checkAttestor(input.attestor, 'input.attestor'),
    cluster: checkNonEmptyString(input.cluster, 'input.cluster'),
    selectors: normalizeSelectors(input.selectors, 'input.selectors'),
    svidSerial: normalizeSerial(input.svidSerial, 'input.svidSerial'),
    svidExpiresAt: checkDate(input.svidExpiresAt, 'input.svidExpiresAt'),
  }
}

/** Throws unless `value` is one of `allowed` (a state, a sort key). */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], name: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`"${name}" must be one of ${allowed.join(', ')}, got ${describe(value)}`)
  }
  return value as T
}

/** Throws unless `search` is a string of 1 to {@link MAX_SEARCH_LENGTH} characters. */
export function checkSearch(search: unknown, name = 'query.search'): string {
  if (typeof search !== 'string' || search.length < 1 || search.length > MAX_SEARCH_LENGTH) {
    throw new TypeError(
      `"${name}" must be a string of 1 to ${MAX_SEARCH_LENGTH} characters, got ${describe(search)}`,
    )
  }
  return search
}

/** Throws unless `pageSize` is an integer from 1 to {@link MAX_PAGE_SIZE}; `undefined` means the default. */
export function checkPageSize(pageSize: unknown): number {
  if (pageSize === undefined) return DEFAULT_PAGE_SIZE
  if (
    typeof pageSize !== 'number' ||
    !Number.isInteger(pageSize) ||
    pageSize < 1 ||
    pageSize > MAX_PAGE_SIZE
  ) {
    throw new TypeError(`"pageSize" must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${describe(pageSize)}`)
  }
  return pageSize
}

/** A short, safe rendering of a bad value for an error message. */
function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid Date' : 'a Date'
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return String(value)
}
