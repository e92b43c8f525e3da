import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { JsonObject, JsonValue } from '../../src/json.ts'

/**
 * The exchanges recorded from kube-apiserver v1.32.13 (see
 * `test/fixtures/kube-reference/README.md`), typed.
 */

/** One HTTP request and its answer. */
export interface RecordedExchange {
  readonly kind: 'exchange'
  readonly index: number
  readonly label: string
  readonly method: string
  readonly path: string
  readonly request: JsonValue
  readonly status: number
  /** The body exactly as sent (formatting included). */
  readonly responseRaw: string
  /** The parsed body; `null` when the body is a stream of JSON lines. */
  readonly response: JsonValue
}

/** The decoded header and claims of the token the preceding TokenRequest returned. */
export interface RecordedDecodedJwt {
  readonly kind: 'decoded-jwt'
  readonly index: number
  readonly label: string
  readonly header: JsonObject
  readonly claims: JsonObject
}

/** A watch stream: the response status and headers, then one event per line. */
export interface RecordedWatch {
  readonly kind: 'watch'
  readonly index: number
  readonly label: string
  readonly method: string
  readonly path: string
  readonly responseStatus: number
  readonly responseHeaders: Readonly<Record<string, string>>
  readonly events: readonly JsonObject[]
}

/** One entry of a recording. */
export type RecordedEntry = RecordedExchange | RecordedDecodedJwt | RecordedWatch

/** One recording file. */
export interface Recording {
  readonly file: string
  readonly gitVersion: string
  /** The URL of the recorded API server (`https://127.0.0.1:26443`). */
  readonly url: string
  readonly entries: readonly RecordedEntry[]
}

const FIXTURES = new URL('../fixtures/kube-reference/', import.meta.url)

/** Loads one recording from `test/fixtures/kube-reference/`. */
export function loadRecording(file: string): Recording {
  const raw = JSON.parse(readFileSync(fileURLToPath(new URL(file, FIXTURES)), 'utf8')) as {
    gitVersion: string
    url: string
    entries: Record<string, unknown>[]
  }
  const entries = raw.entries.map((entry, index): RecordedEntry => {
    const label = String(entry.label)
    if ('claims' in entry) {
      return {
        kind: 'decoded-jwt',
        index,
        label,
        header: entry.header as JsonObject,
        claims: entry.claims as JsonObject,
      }
    }
    if ('events' in entry) {
      const [head, ...events] = entry.events as JsonObject[]
      return {
        kind: 'watch',
        index,
        label,
        method: String(entry.method),
        path: String(entry.path),
        responseStatus: Number(head?.status),
        responseHeaders: (head?.headers ?? {}) as Record<string, string>,
        events,
      }
    }
    return {
      kind: 'exchange',
      index,
      label,
      method: String(entry.method),
      path: String(entry.path),
      request: (entry.request ?? null) as JsonValue,
      status: Number(entry.status),
      responseRaw: String(entry.response_raw),
      response: (entry.response ?? null) as JsonValue,
    }
  })
  return { file, gitVersion: raw.gitVersion, url: raw.url, entries }
}
