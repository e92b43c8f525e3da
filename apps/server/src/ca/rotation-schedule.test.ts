import { describe, expect, it } from 'vitest'
import { planRotation, preparationTime, type ScheduledCa, takeoverTime } from './rotation-schedule.ts'

const HOUR = 3_600_000
const T0 = Date.UTC(2026, 10, 24, 0, 0, 0)
const at = (hours: number) => new Date(T0 + hours * HOUR)

/** A CA valid for `lifetimeHours` from `startHours` after T0. */
function ca(id: string, startHours: number, lifetimeHours = 6, hasKey = true): ScheduledCa {
  return { id, notBefore: at(startHours), notAfter: at(startHours + lifetimeHours), hasKey }
}

describe('the rotation schedule', () => {
  it('prepares at half of the lifetime and hands over at five sixths', () => {
    expect(preparationTime(ca('a', 0))).toEqual(at(3))
    expect(takeoverTime(ca('a', 0))).toEqual(at(5))
  })

  it('asks for a signing CA when there is none', () => {
    expect(planRotation([], at(0))).toEqual({
      signingId: undefined,
      create: 'signing',
      retireKeyIds: [],
      removeIds: [],
      bundleIds: [],
      nextReviewAt: undefined,
    })
  })

  it('keeps a young CA and reviews again at its preparation time', () => {
    expect(planRotation([ca('a', 0)], at(1))).toEqual({
      signingId: 'a',
      create: 'none',
      retireKeyIds: [],
      removeIds: [],
      bundleIds: ['a'],
      nextReviewAt: at(3),
    })
  })

  it('asks for a successor at half of the lifetime', () => {
    expect(planRotation([ca('a', 0)], at(3))).toMatchObject({ signingId: 'a', create: 'successor' })
  })

  it('keeps signing with the old CA until its takeover time, publishing both', () => {
    expect(planRotation([ca('a', 0), ca('b', 3)], at(4.5))).toEqual({
      signingId: 'a',
      create: 'none',
      retireKeyIds: [],
      removeIds: [],
      bundleIds: ['a', 'b'],
      nextReviewAt: at(5),
    })
  })

  it('hands signing to the successor at the takeover time and retires the old key', () => {
    expect(planRotation([ca('a', 0), ca('b', 3)], at(5))).toEqual({
      signingId: 'b',
      create: 'none',
      retireKeyIds: ['a'],
      removeIds: [],
      bundleIds: ['a', 'b'],
      nextReviewAt: at(6),
    })
  })

  it('keeps a superseded CA in the bundle until it expires, then removes it', () => {
    expect(planRotation([ca('a', 0, 6, false), ca('b', 3)], at(5.5))).toMatchObject({
      signingId: 'b',
      retireKeyIds: [],
      bundleIds: ['a', 'b'],
      nextReviewAt: at(6),
    })
    expect(planRotation([ca('a', 0, 6, false), ca('b', 3)], at(6))).toMatchObject({
      signingId: 'b',
      removeIds: ['a'],
      bundleIds: ['b'],
      create: 'successor',
    })
  })

  it('asks for a new signing CA when the server was down past the takeover time', () => {
    expect(planRotation([ca('a', 0)], at(5.5))).toMatchObject({
      signingId: undefined,
      create: 'signing',
      bundleIds: ['a'],
    })
    expect(planRotation([ca('a', 0)], at(7))).toMatchObject({
      create: 'signing',
      removeIds: ['a'],
      bundleIds: [],
    })
  })

  it('lets the oldest of two racing successors sign, and keeps the other as the next one', () => {
    const plan = planRotation([ca('a', 0), ca('c', 3.001), ca('b', 3)], at(5))
    expect(plan).toMatchObject({
      signingId: 'b',
      create: 'none',
      retireKeyIds: ['a'],
      bundleIds: ['a', 'b', 'c'],
    })
  })

  it('does not sign with a CA that has not started yet', () => {
    expect(planRotation([ca('a', 2)], at(1))).toMatchObject({ signingId: undefined, create: 'signing' })
  })
})
