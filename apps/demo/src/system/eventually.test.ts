import { describe, expect, it } from 'vitest'
import { EventuallyTimeoutError, eventually, type PollClock } from './eventually.ts'

/** A clock that moves only when the code under test sleeps. */
function manualClock(): PollClock & { readonly sleeps: number[] } {
  let now = 0
  const sleeps: number[] = []
  return {
    sleeps,
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms)
      now += ms
    },
  }
}

describe('eventually', () => {
  it('returns the first value the probe gives, polling at the interval', async () => {
    const clock = manualClock()
    let calls = 0
    const value = await eventually(() => (++calls === 3 ? 'ready' : undefined), {
      what: 'the third call',
      intervalMs: 50,
      clock,
    })
    expect(value).toBe('ready')
    expect(clock.sleeps).toEqual([50, 50])
  })

  it('gives up at the deadline, naming what never came and the context', async () => {
    const clock = manualClock()
    const waiting = eventually(() => undefined, {
      what: 'a log line',
      timeoutMs: 250,
      intervalMs: 100,
      clock,
      describe: () => 'last seen: nothing',
    })
    await expect(waiting).rejects.toThrow(EventuallyTimeoutError)
    await expect(waiting).rejects.toThrow('timed out after 250 ms waiting for a log line\nlast seen: nothing')
    // The last pause is cut to the deadline, and the probe runs once more at the deadline.
    expect(clock.sleeps).toEqual([100, 100, 50])
  })

  it('ends at once when the probe throws', async () => {
    const clock = manualClock()
    await expect(
      eventually(
        () => {
          throw new Error('the agent exited with 1')
        },
        { what: 'anything', clock },
      ),
    ).rejects.toThrow('the agent exited with 1')
    expect(clock.sleeps).toEqual([])
  })
})
