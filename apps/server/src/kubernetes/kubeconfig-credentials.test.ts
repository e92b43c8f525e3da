import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { kubeconfigCredentialProblems } from './kubeconfig-credentials.ts'

/** Written by `kubectl` 1.32: a user with only kubectl's `tokenFile`. */
const KUBECTL_TOKEN_FILE = readFileSync(
  new URL('../../test/fixtures/kubectl/token-file.kubeconfig', import.meta.url),
  'utf8',
)

/** A kubeconfig whose current context uses user `srv`, with these YAML lines under `user:`. */
function withUser(...lines: string[]): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: demo',
    'clusters: [{ name: demo, cluster: { server: "https://127.0.0.1:6443" } }]',
    'contexts: [{ name: demo, context: { cluster: demo, user: srv } }]',
    'users:',
    '- name: other',
    '  user: { as-groups: [ignored-because-not-current] }',
    '- name: srv',
    '  user:',
    ...lines.map((line) => `    ${line}`),
    '',
  ].join('\n')
}

describe('kubeconfigCredentialProblems', () => {
  it("accepts kubectl's own tokenFile", () => {
    expect(KUBECTL_TOKEN_FILE).toContain('tokenFile: token')
    expect(kubeconfigCredentialProblems(KUBECTL_TOKEN_FILE)).toEqual([])
  })

  it.each([
    ['a token', ['token: abc']],
    ['a client certificate', ['client-certificate: c.pem', 'client-key: k.pem']],
    ['exec', ['exec: { apiVersion: client.authentication.k8s.io/v1, command: get-token }']],
    ['an oidc auth-provider', ['auth-provider: { name: oidc, config: { idp-issuer-url: "https://i" } }']],
    ['basic credentials (sent; kube-apiserver answers 401)', ['username: u', 'password: p']],
    ['impersonation by name', ['token: abc', 'as: someone']],
  ])('accepts what client-node uses: %s', (_name, lines) => {
    expect(kubeconfigCredentialProblems(withUser(...lines))).toEqual([])
  })

  it.each([
    ['as-uid', ['token: abc', 'as: someone', 'as-uid: "1234"'], 'the calls would not impersonate that UID'],
    [
      'as-groups',
      ['token: abc', 'as: someone', 'as-groups: [admins]'],
      'the calls would not impersonate those groups',
    ],
    [
      'as-user-extra',
      ['token: abc', 'as: someone', 'as-user-extra: { team: [a] }'],
      'the calls would not carry that impersonated extra information',
    ],
  ])('refuses %s, which client-node drops', (field, lines, consequence) => {
    expect(kubeconfigCredentialProblems(withUser(...lines))).toEqual([
      `kubeconfig user "srv" sets "${field}", which @kubernetes/client-node ignores (${consequence}); remove it, or impersonate with "as" only`,
    ])
  })

  it('refuses an auth-provider client-node has no plug-in for', () => {
    expect(kubeconfigCredentialProblems(withUser('auth-provider: { name: openstack }'))).toEqual([
      'kubeconfig user "srv" sets "auth-provider" "openstack", which @kubernetes/client-node has no plug-in for (it has azure, gcp, oidc); use "token", "tokenFile", a client certificate or "exec"',
    ])
  })

  it.each([
    [
      'token',
      ['token: abc', 'tokenFile: t'],
      'sets both "token" and "tokenFile"; kubectl\'s documentation and its transport disagree on which wins: keep one',
    ],
    [
      'token-file',
      ['tokenFile: t', 'token-file: t'],
      'sets both "tokenFile" (kubectl\'s field) and "token-file" (@kubernetes/client-node\'s): keep "tokenFile"',
    ],
    [
      'exec',
      ['tokenFile: t', 'exec: { command: get-token }'],
      'sets both "tokenFile" and "exec"; @kubernetes/client-node would use "exec" and ignore "tokenFile": keep one',
    ],
  ])('refuses tokenFile together with %s', (_name, lines, problem) => {
    expect(kubeconfigCredentialProblems(withUser(...lines))).toEqual([`kubeconfig user "srv" ${problem}`])
  })

  it('leaves a file that is not a kubeconfig to client-node', () => {
    expect(kubeconfigCredentialProblems(': not yaml [')).toEqual([])
    expect(kubeconfigCredentialProblems('current-context: nowhere')).toEqual([])
  })
})
