import { describe, expect, it } from 'vitest'
import { formatKubeTime, ManualClock, parseKubeTime } from './clock.ts'

describe('ManualClock', () => {
  it('fires due timers in order while advancing, with now() at each due time', () => {
    const clock = new ManualClock(1000)
    const fired: string[] = []
    clock.setTimer(300, () => fired.push(`b@${clock.now()}`))
    clock.setTimer(100, () => {
      fired.push(`a@${clock.now()}`)
      clock.setTimer(50, () => fired.push(`c@${clock.now()}`))
    })
    clock.advance(250)
    expect(fired).toEqual(['a@1100', 'c@1150'])
    expect(clock.now()).toBe(1250)
    clock.advance(50)
    expect(fired).toEqual(['a@1100', 'c@1150', 'b@1300'])
    expect(clock.pendingTimers).toBe(0)
  })

  it('cancels timers', () => {
    const clock = new ManualClock(0)
    const fired: number[] = []
    const cancel = clock.setTimer(10, () => fired.push(1))
    cancel()
    clock.advance(20)
    expect(fired).toEqual([])
  })

  it('never goes backwards and refuses nonsense', () => {
    const clock = new ManualClock(new Date('2026-11-24T02:49:18Z'))
    expect(() => clock.set(0)).toThrow(TypeError)
    expect(() => clock.advance(-1)).toThrow('"ms" must be a non-negative finite number')
    expect(() => new ManualClock(Number.NaN)).toThrow(TypeError)
  })
})

describe('formatKubeTime and parseKubeTime', () => {
  it('write whole seconds in UTC, as metav1.Time does, and read them back', () => {
    expect(formatKubeTime(Date.parse('2026-11-24T02:49:18.987Z'))).toBe('2026-11-24T02:49:18Z')
    expect(parseKubeTime('2026-11-24T02:49:18Z')).toBe(Date.parse('2026-11-24T02:49:18Z'))
    expect(parseKubeTime('not a time')).toBeUndefined()
    expect(parseKubeTime(undefined)).toBeUndefined()
  })
})
