import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { AGENT_IMAGE_NODE_FLAGS, SERVER_IMAGE_NODE_FLAGS } from './image-node-flags.ts'

const dockerfile = (app: 'agent' | 'server') =>
  readFile(new URL(`../../../${app}/Dockerfile`, import.meta.url), 'utf8')

/** The one line of `text` that starts with `instruction` (e.g. `ENTRYPOINT `). */
function instruction(text: string, name: string): string {
  const lines = text.split('\n').filter((line) => line.startsWith(`${name} `))
  expect(lines, `one ${name} line`).toHaveLength(1)
  return (lines[0] ?? '').slice(name.length + 1)
}

describe('the V8 options the benches run the apps with', () => {
  it('are the agent image NODE_OPTIONS', async () => {
    const env = instruction(await dockerfile('agent'), 'ENV')
    expect(env).toBe(`NODE_OPTIONS=${AGENT_IMAGE_NODE_FLAGS.join(' ')}`)
  })

  it("are the server image's, between node and the command on its ENTRYPOINT", async () => {
    const entrypoint: unknown = JSON.parse(instruction(await dockerfile('server'), 'ENTRYPOINT'))
    expect(entrypoint).toEqual([
      '/usr/local/bin/node',
      ...SERVER_IMAGE_NODE_FLAGS,
      '/usr/local/bin/k8s-attest-server',
    ])
  })
})
