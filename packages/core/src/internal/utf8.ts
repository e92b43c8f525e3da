/**
 * The number of bytes `value` takes in UTF-8, counted without encoding it, so
 * that a size limit can be checked before any work proportional to a hostile
 * input is done. A lone surrogate counts as the 3 bytes of U+FFFD, which is
 * what `TextEncoder` would write for it.
 */
export function utf8ByteLength(value: string): number {
  let bytes = 0
  for (let index = 0; index < value.length; index++) {
    const unit = value.charCodeAt(index)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && isLowSurrogate(value.charCodeAt(index + 1))) {
      bytes += 4
      index++
    } else bytes += 3
  }
  return bytes
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff
}
