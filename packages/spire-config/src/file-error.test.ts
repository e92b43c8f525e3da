import { describe, expect, it } from 'vitest'
import { describeFileError } from './file-error.ts'

function fsError(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code })
}

describe('describeFileError', () => {
  it.each([
    ['ENOENT', 'no such file'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['EISDIR', 'it is a directory, not a file'],
    ['ENOTDIR', 'a part of the path is not a directory'],
  ])('spells out %s', (code, reason) => {
    expect(describeFileError(fsError(code, `${code}: raw message`))).toBe(reason)
  })

  it("keeps the system's message for other errors", () => {
    expect(describeFileError(fsError('EMFILE', "EMFILE: too many open files, open '/x'"))).toBe(
      "EMFILE: too many open files, open '/x'",
    )
  })

  it('describes a thrown non-error as text', () => {
    expect(describeFileError('disk on fire')).toBe('disk on fire')
  })
})
