/**
 * Where a UTF-16 `offset` of `text` is, as `line:column`: both 1-based, the column counted in
 * characters (code points), as editors show it. A CR before a line feed is part of the line end.
 */
export function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  let line = 1
  for (let index = before.indexOf('\n'); index !== -1; index = before.indexOf('\n', index + 1)) line++
  return `${line}:${[...before.slice(lineStart)].length + 1}`
}
