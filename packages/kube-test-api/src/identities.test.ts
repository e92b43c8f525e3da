import { describe, expect, it } from 'vitest'
import { adminIdentitySpec, IdentityRegistry } from './identities.ts'

describe('IdentityRegistry', () => {
  it('adds identities with random tokens and the system:authenticated group', () => {
    const registry = new IdentityRegistry()
    const admin = registry.add(adminIdentitySpec())
    expect(admin).toMatchObject({
      name: 'kubernetes-admin',
      groups: ['system:masters', 'system:authenticated'],
    })
    expect(admin.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(registry.byToken(admin.token)).toBe(admin)
  })

  it('refuses misuse with TypeErrors naming the problem', () => {
    const registry = new IdentityRegistry()
    registry.add({ name: 'alice', token: 't' })
    expect(() => registry.add({ name: '' })).toThrow('an identity needs a non-empty "name"')
    expect(() => registry.add({ name: 'alice' })).toThrow('an identity named "alice" already exists')
    expect(() => registry.add({ name: 'bob', token: 't' })).toThrow(
      'that token already belongs to another identity',
    )
    expect(() => registry.add({ name: 'system:serviceaccount:a:b' })).toThrow(
      /would impersonate a service account/,
    )
    expect(() => registry.add({ name: 'carol', rules: [{ verbs: [] }] })).toThrow(
      'every rule of identity "carol" needs at least one verb',
    )
  })
})
