import { EventEmitter } from 'node:events'
import { AttestError } from '@k8s-attest/core'
import { describe, expect, it } from 'vitest'
import { IpcChannel, type IpcEndpoint } from './ipc-channel.ts'

/** Two ends of a channel, delivering each message asynchronously as IPC does, cloned. */
function pair(): [IpcEndpoint, IpcEndpoint] {
  const a = new EventEmitter()
  const b = new EventEmitter()
  const end = (self: EventEmitter, other: EventEmitter): IpcEndpoint => ({
    send: (message) => setImmediate(() => other.emit('message', structuredClone(message))),
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
})
