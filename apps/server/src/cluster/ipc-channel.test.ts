import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { setTimeout as delay } from 'node:timers/promises'
import { AttestError } from '@k8s-attest/core'
import { describe, expect, it, vi } from 'vitest'
import { IpcChannel, type IpcEndpoint } from './ipc-channel.ts'

/** Two ends of a channel, delivering each message asynchronously as IPC does, cloned. */
function pair(): [IpcEndpoint, IpcEndpoint] {
  const a = new EventEmitter()
  const b = new EventEmitter()
  const end = (self: EventEmitter, other: EventEmitter): IpcEndpoint => ({
    send: (message, callback) =>
      setImmediate(() => {
        other.emit('message', structuredClone(message))
        callback(null)
      }),
    on: (event, listener) => self.on(event, listener),
    off: (event, listener) => self.off(event, listener),
  })
  return [end(a, b), end(b, a)]
}

describe('IpcChannel', () => {
  it('answers requests in both directions, each to its own caller', async () => {
    const [left, right] = pair()
    const worker = new IpcChannel(left)
    const primary = new IpcChannel(right)
    primary.handle('add', (params) => {
      const { a, b } = params as { a: number; b: number }
      return a + b
    })
    worker.handle('whoami', async () => 'worker 1')
    expect(
      await Promise.all([worker.request('add', { a: 1, b: 2 }), worker.request('add', { a: 3, b: 4 })]),
    ).toEqual([3, 7])
    expect(await primary.request('whoami')).toBe('worker 1')
  })

  it('carries an AttestError back with its code and details, and names a method nobody answers', async () => {
    const [left, right] = pair()
    const worker = new IpcChannel(left)
    new IpcChannel(right).handle('reload', () => {
      throw new AttestError('ATT_ERR_CONFIG_RELOAD_REFUSED', 'server.bind_port needs a restart', {
        check: 'config_reload',
      })
    })
    await expect(worker.request('reload')).rejects.toThrow(
      expect.objectContaining({
        name: 'AttestError',
        code: 'ATT_ERR_CONFIG_RELOAD_REFUSED',
        message: 'server.bind_port needs a restart',
        details: { check: 'config_reload' },
      }),
    )
    await expect(worker.request('nothing')).rejects.toThrow('no handler for nothing')
  })

  it('fails a request nobody answers in time, and pending ones when closed', async () => {
    const silent: IpcEndpoint = { send: () => undefined, on: () => undefined, off: () => undefined }
    await expect(new IpcChannel(silent, { timeoutMs: 20 }).request('ca.maintain')).rejects.toThrow(
      'no answer to ca.maintain from the other process within 20 ms',
    )
    const channel = new IpcChannel(silent)
    const pending = channel.request('sessions.get')
    channel.close()
    await expect(pending).rejects.toThrow('the IPC channel closed before the answer came')
  })

  it('fails a request to a process that has died, instead of crashing this one', async () => {
    const child = childProcess('process.exit(0)')
    await once(child, 'exit')
    await expect(new IpcChannel(child as unknown as IpcEndpoint).request('worker.metrics')).rejects.toThrow(
      /^could not ask the other process for worker\.metrics: /,
    )
  })

  it('drops the answer to a process that died while its request was handled', async () => {
    // The worker asks, then dies before the (slow) answer: the primary must live on.
    const child = childProcess(
      "process.send({ tag: 'k8s-attest-ipc', kind: 'request', id: 1, method: 'ca.maintain', params: null }, () => process.exit(0))",
    )
    const channel = new IpcChannel(child as unknown as IpcEndpoint)
    let handled = false
    channel.handle('ca.maintain', async () => {
      await once(child, 'exit')
      handled = true
      return null
    })
    await vi.waitFor(() => expect(handled).toBe(true))
    await delay(50)
  })
})

/** A Node process running `source` with an IPC channel to this one. */
function childProcess(source: string): ChildProcess {
  return spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
}
