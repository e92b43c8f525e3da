/**
 * Loaded with `node --import` into an agent process by lazy-imports.integration.test.ts, never
 * by the agent itself: it records every module the process resolves (ES modules and CommonJS
 * alike, through Node's synchronous module hooks) and, as the process exits, writes their URLs,
 * one a line, to the file `K8S_ATTEST_TEST_LOADED_MODULES` names. Tests then assert which
 * libraries an agent loaded, not how long it took.
 */
import { writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'

const out = process.env.K8S_ATTEST_TEST_LOADED_MODULES
if (out === undefined) throw new Error('loaded-modules.preload: set K8S_ATTEST_TEST_LOADED_MODULES')

const loaded = new Set<string>()
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    loaded.add(resolved.url)
    return resolved
  },
})
process.once('exit', () => writeFileSync(out, [...loaded].join('\n')))
