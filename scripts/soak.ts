/**
 * `pnpm soak`: 200 agents against one server for 10 minutes, figures into
 * docs/failure-modes.md. The run itself is apps/demo/test/soak/soak.ts, next to the demo's
 * system modules (the embedded cluster, the server as a process) it drives.
 *
 *   pnpm soak [--agents 200] [--minutes 10] [--svid-ttl 1m] [--no-docs]
 */
await import('../apps/demo/test/soak/soak.ts')
