import { describe, expect, it } from 'vitest'
import { forbidden, invalid, isKubeStatusError, KubeStatusError, notFound, successStatus } from './status.ts'

describe('Status objects', () => {
  it("are written in kube-apiserver's field order, omitting empty details", () => {
    expect(JSON.stringify(notFound({ group: '', resource: 'pods' }, 'missing').toJSON())).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \\"missing\\" not found","reason":"NotFound","details":{"name":"missing","kind":"pods"},"code":404}',
    )
    expect(forbidden(undefined, '', 'User "system:anonymous" cannot get path "/x"').toJSON()).toMatchObject({
      message: 'forbidden: User "system:anonymous" cannot get path "/x"',
      details: {},
    })
    expect(successStatus({ name: 'n', kind: 'nodes', uid: 'u' })).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'n', kind: 'nodes', uid: 'u' },
    })
  })

  it('aggregate several field errors as Kubernetes does', () => {
    const error = invalid({ group: '', kind: 'Pod' }, 'p', [
      { field: 'spec.containers', type: 'Required value' },
      { field: 'metadata.name', type: 'Invalid value', value: 'P', detail: 'bad' },
    ])
    expect(error.message).toBe(
      'Pod "p" is invalid: [spec.containers: Required value, metadata.name: Invalid value: "P": bad]',
    )
    expect(error.toJSON().details).toEqual({
      name: 'p',
      kind: 'Pod',
      causes: [
        { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' },
        { reason: 'FieldValueInvalid', message: 'Invalid value: "P": bad', field: 'metadata.name' },
      ],
    })
  })

  it('leave the value out of Too long errors and print Go-syntax values as they are', () => {
    const error = invalid({ group: 'rbac.authorization.k8s.io', kind: 'Role' }, 'r', [
      { field: '[]', type: 'Too long', value: 'ignored', detail: 'must have at most 1048576 bytes' },
      { field: 'rules[0].nonResourceURLs', type: 'Invalid value', goValue: '[]string{"/x"}', detail: 'no' },
    ])
    expect(error.message).toBe(
      'Role.rbac.authorization.k8s.io "r" is invalid: [[]: Too long: must have at most 1048576 bytes, rules[0].nonResourceURLs: Invalid value: []string{"/x"}: no]',
    )
    expect(error.toJSON().details).toMatchObject({
      causes: [{ reason: 'FieldValueTooLong' }, { reason: 'FieldValueInvalid' }],
    })
  })

  it('carry a stable code and are recognised by shape', () => {
    const error = notFound({ group: '', resource: 'pods' }, 'p')
    expect(error.code).toBe('ATT_ERR_KUBE_TEST_NOT_FOUND')
    expect(isKubeStatusError(error)).toBe(true)
    expect(isKubeStatusError(new Error('x'))).toBe(false)
    expect(() => new KubeStatusError({ code: 418, reason: 'Teapot', message: 'no' })).toThrow(TypeError)
  })
})
