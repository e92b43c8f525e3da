import { beforeEach, describe, expect, it } from 'vitest'
import { createTestCluster } from '../../test/support/test-cluster.ts'
import type { Registry } from '../registry.ts'
import { namespaces } from './namespaces.ts'
import { secrets } from './secrets.ts'

/** Secrets share their key and base64 checks with ConfigMaps (`config-keys.ts`, `byte-maps.ts`). */

const write = { manager: 'test' }
let registry: Registry

beforeEach(() => {
  registry = createTestCluster().cluster.registry
  registry.create(namespaces, '', { metadata: { name: 'spire' } }, write)
})

describe('secrets', () => {
  it('refuse data that is not base64 with 400, naming the Secret kind', () => {
    expect(() =>
      registry.create(secrets, 'spire', { metadata: { name: 's' }, data: { k: 'a=b=' } }, write),
    ).toThrow('Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 1')
  })

  it("refuse data keys IsConfigMapKey refuses, '..'-prefixed ones included", () => {
    expect(() =>
      registry.create(secrets, 'spire', { metadata: { name: 's' }, stringData: { '..k': 'v' } }, write),
    ).toThrow(`Secret "s" is invalid: data[..k]: Invalid value: "..k": must not start with '..'`)
  })
})
