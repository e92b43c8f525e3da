import { describe, expect, it } from 'vitest'
import { unsupportedFields } from './pod-spec.ts'

describe('unsupportedFields', () => {
  it('accepts the fields the runner carries out', () => {
    const template = {
      metadata: { labels: { app: 'x' } },
      spec: {
        securityContext: { runAsUser: 10001 },
        containers: [
          { name: 'c', image: 'i', args: ['run'], volumeMounts: [{ name: 'v', mountPath: '/v' }] },
        ],
        volumes: [{ name: 'v', emptyDir: {} }],
      },
    }
    expect(unsupportedFields(template)).toEqual([])
  })

  it('names every field it does not carry out, by path', () => {
    const template = {
      spec: {
        hostNetwork: true,
        containers: [{ name: 'c', image: 'i', resources: { limits: { cpu: '1' } } }],
        volumes: [{ name: 'v', hostPath: { path: '/var' } }],
      },
    }
    expect(unsupportedFields(template)).toEqual([
      'spec.template.spec.hostNetwork',
      'spec.template.spec.containers[0].resources',
      'spec.template.spec.volumes[0].hostPath',
    ])
  })
})
