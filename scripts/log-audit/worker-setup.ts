// jwt.ts alone, not the package index: this runs before every test file, and the index is large.
// It is the same module the test APIs use, so its listeners see their tokens.

import { afterAll } from 'vitest'
import { observeSignedTokens } from '../../packages/kube-test-api/src/jwt.ts'
import { flushCapturedLogs, recordSecret } from './captured-logs.ts'

// Every token a Kubernetes test API signs in this worker is a secret no log may hold.
observeSignedTokens(recordSecret)
afterAll(flushCapturedLogs)
