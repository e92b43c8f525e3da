import type { CliIo } from '../src/cli/cli-io.ts'

/** A {@link CliIo} that keeps what the CLI writes. */
export function captureIo(): { readonly io: CliIo; stdout(): string; stderr(): string } {
  const out: string[] = []
  const err: string[] = []
  return {
    io: {
      stdout: (text) => {
        out.push(text)
      },
      stderr: (text) => {
        err.push(text)
      },
    },
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  }
}
