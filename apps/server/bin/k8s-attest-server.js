#!/usr/bin/env node
// The `k8s-attest-server` command: the built CLI in dist/ (`make build` or `pnpm build` makes it).
// Built JavaScript rather than the TypeScript sources, so a call does not spend its time
// stripping types from every module it loads.
import { access } from 'node:fs/promises'

const entry = new URL('../dist/main.js', import.meta.url)
try {
  await access(entry)
} catch (error) {
  if (error.code !== 'ENOENT') throw error
  process.stderr.write(
    'k8s-attest-server is not built yet: run `make build` (or `pnpm build`) in the repository\n',
  )
  process.exit(1)
}
await import(entry.href)
