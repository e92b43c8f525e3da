import type { ConfigReloadResponse } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { type ReloadableWorker, reloadWorkers } from './reload-fan-out.ts'

const NO_CHANGE = { added: [], removed: [], changed: [] }
const answerOf = (file: string): ConfigReloadResponse => ({
  config_file: file,
  k8s_psat: NO_CHANGE,
  k8s_sat: NO_CHANGE,
})

function worker(
  id: number,
  behaviour: {
    listening?: boolean
    reload?: () => Promise<ConfigReloadResponse>
    exitsWhileReloading?: true
  },
): ReloadableWorker & { reloads: number; toldToReloadLater: number } {
  let running = true
  const target = {
    id,
    listening: behaviour.listening ?? true,
    reloads: 0,
    toldToReloadLater: 0,
    reloadOnceListening: () => {
      target.toldToReloadLater++
    },
    isRunning: () => running,
    reload: async () => {
      target.reloads++
      if (behaviour.exitsWhileReloading) {
        running = false
        throw new Error('the IPC channel closed before the answer came')
      }
      return (behaviour.reload ?? (async () => answerOf(`/etc/worker-${id}.conf`)))()
    },
  }
  return target
}

describe('reloadWorkers', () => {
  it('reloads every listening worker and answers with the first answer', async () => {
    const workers = [worker(1, {}), worker(2, {})]
    await expect(reloadWorkers(workers)).resolves.toEqual({
      answer: answerOf('/etc/worker-1.conf'),
      reloaded: 2,
      deferred: [],
      gone: 0,
    })
    expect(workers.map((each) => each.reloads)).toEqual([1, 1])
  })

  it('tells a worker still starting to reload once it listens, before any other answers', async () => {
    const starting = worker(3, { listening: false })
    let answer: (value: ConfigReloadResponse) => void = () => {}
    const slow = worker(1, { reload: () => new Promise((resolve) => (answer = resolve)) })
    const outcome = reloadWorkers([slow, starting])
    // The starting worker may begin listening while the others reload: it is told already.
    expect(starting.toldToReloadLater).toBe(1)
    answer(answerOf('/etc/worker-1.conf'))
    expect(await outcome).toMatchObject({ reloaded: 1, deferred: [3], gone: 0 })
    expect(starting.reloads).toBe(0)
    expect(slow.toldToReloadLater).toBe(0)
  })

  it('does not call the death of a worker mid-reload a refusal', async () => {
    const outcome = await reloadWorkers([worker(1, { exitsWhileReloading: true }), worker(2, {})])
    expect(outcome).toEqual({ answer: answerOf('/etc/worker-2.conf'), reloaded: 1, deferred: [], gone: 1 })
  })

  it('answers nothing, without failing, when no worker listens and stays', async () => {
    const outcome = await reloadWorkers([
      worker(1, { exitsWhileReloading: true }),
      worker(2, { listening: false }),
    ])
    expect(outcome).toEqual({ answer: undefined, reloaded: 0, deferred: [2], gone: 1 })
  })

  it("throws a running worker's refusal, as it gave it", async () => {
    const refusal = new Error('server.conf: line 3: trust_domain cannot change on reload')
    const outcome = reloadWorkers([worker(1, {}), worker(2, { reload: () => Promise.reject(refusal) })])
    await expect(outcome).rejects.toBe(refusal)
  })
})
