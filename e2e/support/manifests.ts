import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'

/** The repository root, where `deploy/` lives. */
export const REPO_ROOT = resolve(import.meta.dirname, '../..')

/** A rendered Kubernetes object, as `kubectl kustomize` prints it. */
export interface KubeObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown }
  readonly [key: string]: unknown
}

/**
 * Renders a kustomization with `kubectl kustomize` — what `kubectl apply -k` applies — and parses
 * every document. kubectl is the one tool users need, so it is the renderer tested here.
 *
 * @param directory the kustomization, relative to the repository root (e.g. `deploy/overlays/kind`)
 */
export function renderKustomization(directory: string): KubeObject[] {
  let rendered: string
  try {
    rendered = execFileSync('kubectl', ['kustomize', resolve(REPO_ROOT, directory)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  } catch (error) {
    throw new Error(
      `kubectl kustomize ${directory} failed (is kubectl 1.27 or newer on PATH?): ${String(error)}`,
      { cause: error },
    )
  }
  return parseAllDocuments(rendered).map((document, index) => {
    if (document.errors.length > 0)
      throw new Error(`document ${index} of ${directory}: ${document.errors.join('; ')}`)
    const object = document.toJSON() as KubeObject
    if (typeof object?.kind !== 'string' || typeof object.metadata?.name !== 'string')
      throw new Error(`document ${index} of ${directory} has no kind or metadata.name`)
    return object
  })
}

/** The one object of `kind` named `name` (kustomize's hash suffix on generated names ignored). */
export function findObject(objects: readonly KubeObject[], kind: string, name: string): KubeObject {
  const matches = objects.filter(
    (object) =>
      object.kind === kind &&
      (object.metadata.name === name || new RegExp(`^${name}-[a-z0-9]{10}$`).test(object.metadata.name)),
  )
  if (matches.length !== 1)
    throw new Error(`expected one ${kind} "${name}" in the rendered manifests, found ${matches.length}`)
  return matches[0] as KubeObject
}
