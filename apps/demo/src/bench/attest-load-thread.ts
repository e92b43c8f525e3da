import { request as httpsRequest } from 'node:https'
import { parentPort, workerData } from 'node:worker_threads'

/*
 * One thread of the workers comparison's load: `count` attestations, `concurrency` at a time,
 * each on a fresh TLS connection. A Node TLS client pays more per handshake than the server, so
 * the load runs on threads of its own, off the main thread that also serves the test API:
 * otherwise the figure would measure the load generator, not the server.
 */

/** What the main thread hands this thread. */
export interface AttestLoad {
  readonly url: string
  readonly ca: string
  readonly bodies: readonly string[]
  /** Index of this thread's first attestation, so threads use different bodies. */
  readonly offset: number
  readonly count: number
  readonly concurrency: number
}

const load = workerData as AttestLoad
let next = 0
await Promise.all(
  Array.from({ length: load.concurrency }, async () => {
    while (next < load.count) {
      const index = load.offset + next++
      await attest(load.bodies[index % load.bodies.length] as string)
    }
  }),
)
parentPort?.postMessage('done')

function attest(body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      `${load.url}/v1/attest`,
      { method: 'POST', agent: false, ca: load.ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        res.resume()
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`POST /v1/attest answered ${res.statusCode}`))
          else resolve()
        })
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}
