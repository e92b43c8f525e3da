import { createServer } from 'node:net'

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. The server's port must be known before it
 * starts (it goes into the agents' configuration, and stays the same across a restart), so it
 * cannot simply listen on port 0.
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no TCP port could be reserved')
  return address.port
}
