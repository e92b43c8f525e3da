import { execFileSync } from 'node:child_process'
import { REPO_ROOT } from '../support/manifests.ts'

/**
 * Once per run, before the container tests: checks that Docker answers, then builds the server
 * and agent images (deploy/images/build.sh --offline: nothing is pulled, the base image is made
 * from the local Node runtime) and prints their sizes. K8S_ATTEST_E2E_REUSE_IMAGES=1 keeps the
 * images already built.
 */
export default function setup(): void {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'pipe' })
  } catch (error) {
    throw new Error(
      'the container e2e needs a Docker daemon (DOCKER_HOST or /var/run/docker.sock); .ci/run starts one, ' +
        `see e2e/README.md: ${String(error)}`,
      { cause: error },
    )
  }
  if (process.env.K8S_ATTEST_E2E_REUSE_IMAGES === '1') return
  execFileSync('bash', ['deploy/images/build.sh', '--offline'], { cwd: REPO_ROOT, stdio: 'inherit' })
}
