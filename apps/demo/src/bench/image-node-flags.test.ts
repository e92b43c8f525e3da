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
  it.each([
    ['agent', AGENT_IMAGE_NODE_FLAGS],
    ['server', SERVER_IMAGE_NODE_FLAGS],
  ] as const)("are the %s image's NODE_OPTIONS", async (app, flags) => {
    const env = instruction(await dockerfile(app), 'ENV')
    expect(env).toBe(`NODE_OPTIONS=${flags.join(' ')}`)
  })
})
