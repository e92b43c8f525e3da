/**
 * The known key closest to `key` by edit distance, ignoring case, if it is close enough to be a
 * likely typo (`sever_address` → `server_address`, `audiance` → `audience`): at most 2 edits, or
 * a quarter of the key's length for long keys. `undefined` when nothing is that close, so a
 * message lists the valid keys instead of suggesting an unrelated one. Ties go to the key first
 * in `known`.
 */
export function closestKey(key: string, known: Iterable<string>): string | undefined {
  const maxDistance = Math.max(2, Math.floor(key.length / 4))
  let best: string | undefined
  let bestDistance = maxDistance + 1
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) {
      best = candidate
      bestDistance = distance
    }
  }
  return best
}

/** Levenshtein distance (insertions, deletions, substitutions), two rows at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] ?? 0
}
