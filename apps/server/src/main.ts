/**
 * `k8s-attest-server`: hands off to the CLI, as SPIRE's three-line `main.go` does.
 */

import { runCli } from './cli/cli.ts'
import { PROCESS_IO } from './cli/cli-io.ts'

process.exitCode = await runCli(process.argv.slice(2), PROCESS_IO)
