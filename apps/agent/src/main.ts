#!/usr/bin/env -S node --conditions=@k8s-attest/source
import { runCli } from './cli.ts'

// The whole program is the CLI; this file only binds it to the process (SPIRE's cmd/*/main.go).
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  onStopSignal(stop) {
    const onSignal = (signal: string) => stop(signal)
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    return () => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
    }
  },
})
