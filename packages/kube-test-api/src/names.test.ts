import { describe, expect, it } from 'vitest'
import { newUid, randomSuffix, validateName } from './names.ts'

describe('validateName', () => {
  it('accepts DNS-1123 subdomains and refuses others with the Kubernetes message', () => {
    expect(validateName('spire-agent.pod-1', 'dns1123-subdomain')).toEqual([])
    const [error] = validateName('Bad_Name', 'dns1123-subdomain')
    expect(error).toMatchObject({ field: 'metadata.name', type: 'Invalid value', value: 'Bad_Name' })
    expect(error?.detail).toContain('a lowercase RFC 1123 subdomain must consist of')
  })

  it('limits DNS-1123 labels to 63 characters and no dots', () => {
    expect(validateName('spire', 'dns1123-label')).toEqual([])
    expect(validateName('a.b', 'dns1123-label')[0]?.detail).toContain('RFC 1123 label')
    expect(validateName('a'.repeat(64), 'dns1123-label')[0]?.detail).toBe(
      'must be no more than 63 characters',
    )
  })

  it('allows RBAC names with colons but not slashes', () => {
    expect(validateName('system:auth-delegator', 'path-segment')).toEqual([])
    expect(validateName('a/b', 'path-segment')[0]?.detail).toBe("may not contain '/'")
    expect(validateName('..', 'path-segment')[0]?.detail).toBe("may not be '..'")
    expect(validateName('a/b%c', 'path-segment').map((error) => error.detail)).toEqual([
      "may not contain '/'",
      "may not contain '%'",
    ])
  })
})

describe('generated values', () => {
  it('uses the unambiguous alphabet for suffixes and UUIDs for UIDs', () => {
    expect(randomSuffix()).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{5}$/)
    expect(newUid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})
