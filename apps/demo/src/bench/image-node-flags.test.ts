import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import {
  AGENT_IMAGE_NODE_FLAGS,
  IMAGE_ENVIRONMENT,
  imageEnvironment,
  SERVER_IMAGE_NODE_FLAGS,
} from './image-node-flags.ts'

const dockerfile = (app: 'agent' | 'server') =>
  readFile(new URL(`../../../${app}/Dockerfile`, import.meta.url), 'utf8')

/** The lines of `text` that start with `instruction` (e.g. `ENV `), without it. */
function instructions(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name} `))
    .map((line) => line.slice(name.length + 1))
}

describe('the V8 options the benches run the apps with', () => {
  it.each([
    ['agent', AGENT_IMAGE_NODE_FLAGS],
    ['server', SERVER_IMAGE_NODE_FLAGS],
  ] as const)("are the %s image's NODE_OPTIONS, and its environment the image's too", async (app, flags) => {
    const env = instructions(await dockerfile(app), 'ENV')
    expect(env.toSorted()).toEqual(
      [
        `NODE_OPTIONS=${flags.join(' ')}`,
        ...Object.entries(IMAGE_ENVIRONMENT).map(([name, value]) => `${name}=${value}`),
      ].toSorted(),
    )
  })
})

describe('imageEnvironment', () => {
  it("is the image's, but for the variables the bench's own environment sets", () => {
    expect(imageEnvironment({})).toEqual({ MALLOC_ARENA_MAX: '2' })
    expect(imageEnvironment({ MALLOC_ARENA_MAX: '8', OTHER: 'x' })).toEqual({ MALLOC_ARENA_MAX: '8' })
  })
})
