import { clusterNameProblem } from '@k8s-attest/core'
import type { HclBodyReader } from '@k8s-attest/spire-config'
import { KUBERNETES_NAMES, readKubeConfigFile } from './kubernetes-settings.ts'
import {
  type NodeAttestorsConfig,
  PSAT_TOKEN_VERIFICATIONS,
  type PsatClusterConfig,
  type PsatTokenVerification,
  type SatClusterConfig,
  type SatTokenValidation,
  SERVER_CONFIG_DEFAULTS,
} from './server-config.ts'
import { loadServiceAccountKeys } from './service-account-keys.ts'

const CLUSTERS_EXAMPLE = '{ "<cluster name>" = { service_account_allow_list = ["spire:spire-agent"] } }'
const ALLOW_LIST_ITEM = 'service accounts written "namespace:name", e.g. "spire:spire-agent"'

/** A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/

const UNSUPPORTED_PLUGIN_KEYS: Readonly<Record<string, string>> = {
  plugin_cmd: 'k8s-attest runs only its built-in attestors',
  plugin_checksum: 'k8s-attest runs only its built-in attestors',
  plugin_data_file: 'write the settings inline in plugin_data { … }',
}

/**
 * Reads the `NodeAttestor` blocks of `plugins { … }`. At least one of `k8s_psat` and
 * `k8s_sat` must be configured, each with at least one cluster (SPIRE merely notes an empty
 * k8s_psat map: "PSAT attestation is effectively disabled"; here that is an error, since the
 * server would refuse every agent). Referenced files are read now, so a typo in a path is
 * reported with everything else instead of at the first attestation.
 */
export async function readNodeAttestors(
  plugins: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): Promise<NodeAttestorsConfig> {
  let k8sPsat: NodeAttestorsConfig['k8sPsat']
  let k8sSat: NodeAttestorsConfig['k8sSat']
  if (plugins === undefined) return { k8sPsat, k8sSat }

  const attestors = plugins.labeledBlocks('NodeAttestor', 'k8s_psat')
  // A NodeAttestor key that is present but malformed has been reported by labeledBlocks.
  if (attestors.size === 0 && !plugins.has('NodeAttestor')) {
    plugins.report(
      'NodeAttestor',
      'is required; configure at least one of NodeAttestor "k8s_psat" { … } and NodeAttestor "k8s_sat" { … }',
    )
  }
  for (const [name, plugin] of attestors) {
    if (name !== 'k8s_psat' && name !== 'k8s_sat') {
      plugin.report(
        undefined,
        'is not a known NodeAttestor plugin; expected NodeAttestor "k8s_psat" or "k8s_sat"',
      )
      continue
    }
    const pluginData = plugin.block('plugin_data', { required: true })
    plugin.rejectUnknownKeys(UNSUPPORTED_PLUGIN_KEYS)
    const clusterBodies = pluginData?.objectMap('clusters', CLUSTERS_EXAMPLE, { required: true })
    pluginData?.rejectUnknownKeys()
    if (pluginData === undefined || clusterBodies === undefined) continue
    if (clusterBodies.size === 0) {
      pluginData.report(
        'clusters',
        `must configure at least one cluster, e.g. clusters = ${CLUSTERS_EXAMPLE}`,
      )
    }
    for (const [clusterName, cluster] of clusterBodies) {
      const nameProblem = clusterNameProblem(clusterName)
      if (nameProblem !== undefined) cluster.report(undefined, nameProblem)
    }
    if (name === 'k8s_psat') {
      const clusters = new Map<string, PsatClusterConfig>()
      for (const [clusterName, cluster] of clusterBodies) {
        clusters.set(clusterName, await readPsatCluster(clusterName, cluster, resolvePath))
      }
      k8sPsat = { clusters }
    } else {
      const clusters = new Map<string, SatClusterConfig>()
      for (const [clusterName, cluster] of clusterBodies) {
        clusters.set(clusterName, await readSatCluster(clusterName, cluster, resolvePath))
      }
      k8sSat = { clusters }
    }
  }
  return { k8sPsat, k8sSat }
}

async function readPsatCluster(
  name: string,
  cluster: HclBodyReader,
  resolvePath: (path: string) => string,
): Promise<PsatClusterConfig> {
  const serviceAccountAllowList = readAllowList(name, cluster)
  const audience = cluster.stringList('audience', 'audiences such as "spire-server"', (item) =>
    item === '' ? 'must not be empty; write audience = [] to use the API server audiences' : undefined,
  ) ?? [...SERVER_CONFIG_DEFAULTS.psatAudience]
  const kubeConfigFile = await readKubeConfigFile(cluster, 'kube_config_file', resolvePath)
  const kubeApiTimeoutMs = readKubeApiTimeout(cluster)
  const allowedNodeLabelKeys =
    cluster.stringList('allowed_node_label_keys', 'label keys', labelKeyProblem) ?? []
  const allowedPodLabelKeys =
    cluster.stringList('allowed_pod_label_keys', 'label keys', labelKeyProblem) ?? []
  const usePodUidForAgentId = cluster.boolean('use_pod_uid_for_agent_id') ?? false
  const tokenVerification = readTokenVerification(cluster)
  if (tokenVerification === 'jwks' && audience.length === 0) {
    cluster.report(
      'audience',
      'must name at least one audience when token_verification = "jwks" (the API server\'s own audiences are only known to TokenReview)',
    )
  }
  cluster.rejectUnknownKeys()
  return {
    name,
    serviceAccountAllowList,
    audience,
    kubeConfigFile,
    kubeApiTimeoutMs,
    allowedNodeLabelKeys,
    allowedPodLabelKeys,
    usePodUidForAgentId,
    tokenVerification,
  }
}

/** `token_verification`: `"tokenreview"` (the default) or `"jwks"`. */
function readTokenVerification(cluster: HclBodyReader): PsatTokenVerification {
  const allowed = PSAT_TOKEN_VERIFICATIONS.map((value) => JSON.stringify(value)).join(', ')
  const value = cluster.string('token_verification', `one of ${allowed}`)
  if (value === undefined) return 'tokenreview'
  const known = PSAT_TOKEN_VERIFICATIONS.find((candidate) => candidate === value)
  if (known === undefined) {
    cluster.report('token_verification', `must be one of ${allowed}; got ${JSON.stringify(value)}`)
    return 'tokenreview'
  }
  return known
}

async function readSatCluster(
  name: string,
  cluster: HclBodyReader,
  resolvePath: (path: string) => string,
): Promise<SatClusterConfig> {
  const serviceAccountAllowList = readAllowList(name, cluster)
  const useTokenReview = cluster.boolean('use_token_review_api_validation') ?? false
  // As in SPIRE, "" is the same as leaving these keys out.
  const keyFileSetting = cluster.string('service_account_key_file', 'a path to a PEM file of public keys', {
    allowEmpty: true,
  })
  const issuerSetting = cluster.string('service_account_issuer', 'the issuer ("iss") of the tokens', {
    allowEmpty: true,
  })
  const kubeConfigFile = await readKubeConfigFile(cluster, 'kube_config_file', resolvePath)
  const timeoutSetting = cluster.has('kube_api_timeout')
  const kubeApiTimeoutMs = readKubeApiTimeout(cluster)
  cluster.rejectUnknownKeys()

  let validation: SatTokenValidation
  const issuer =
    issuerSetting === undefined || issuerSetting === '' ? SERVER_CONFIG_DEFAULTS.satIssuer : issuerSetting
  if (useTokenReview) {
    if (keyFileSetting !== undefined && keyFileSetting !== '') {
      cluster.report(
        'service_account_key_file',
        'is only used when use_token_review_api_validation = false; remove one of the two',
      )
    }
    if (issuerSetting !== undefined) {
      cluster.report(
        'service_account_issuer',
        'is only used when use_token_review_api_validation = false (the API server checks the issuer otherwise)',
      )
    }
    validation = { kind: 'token-review', kubeConfigFile, kubeApiTimeoutMs }
  } else {
    if (kubeConfigFile !== undefined) {
      cluster.report(
        'kube_config_file',
        'is only used when use_token_review_api_validation = true (the API server is not called otherwise)',
      )
    }
    if (timeoutSetting) {
      cluster.report(
        'kube_api_timeout',
        'is only used when use_token_review_api_validation = true (the API server is not called otherwise)',
      )
    }
    if (keyFileSetting === undefined || keyFileSetting === '') {
      cluster.report(
        'service_account_key_file',
        `is required for cluster ${JSON.stringify(name)} when use_token_review_api_validation = false (the default); ` +
          "expected the PEM file of the API server's service account public keys",
      )
      validation = { kind: 'service-account-keys', keyFile: '', keys: [], issuer }
    } else {
      const keyFile = resolvePath(keyFileSetting)
      const { keys, problems } = await loadServiceAccountKeys(keyFile)
      for (const problem of problems) cluster.report('service_account_key_file', problem)
      validation = { kind: 'service-account-keys', keyFile, keys, issuer }
    }
  }
  return { name, serviceAccountAllowList, validation }
}

/** `service_account_allow_list`, required and non-empty (SPIRE's message, with the cluster). */
function readAllowList(clusterName: string, cluster: HclBodyReader): string[] {
  const list = cluster.stringList('service_account_allow_list', ALLOW_LIST_ITEM, serviceAccountProblem, {
    required: true,
    emptyMessage: `cluster ${JSON.stringify(clusterName)} must allow at least one service account, e.g. ["spire:spire-agent"]`,
  })
  return list ?? []
}

/** `kube_api_timeout`: the deadline of each Kubernetes API call, default 5 s. */
/**
 * The longest `kube_api_timeout`: an attestation waits this long at most, longer than any agent
 * waits for its answer. (Beyond 2^31 − 1 ms, about 24.8 days, Node's timers fire at once, and
 * every call would time out in a millisecond.)
 */
const MAX_KUBE_API_TIMEOUT_MS = 10 * 60_000

function readKubeApiTimeout(cluster: HclBodyReader): number {
  return (
    cluster.duration('kube_api_timeout', {
      minMs: 1,
      maxMs: MAX_KUBE_API_TIMEOUT_MS,
      examples: ['5s', '500ms'],
    }) ?? SERVER_CONFIG_DEFAULTS.kubeApiTimeoutMs
  )
}

function serviceAccountProblem(entry: string): string | undefined {
  const [namespace, name, ...rest] = entry.split(':')
  if (
    rest.length > 0 ||
    namespace === undefined ||
    name === undefined ||
    !KUBERNETES_NAMES.namespace.test(namespace) ||
    name.length > 253 ||
    !KUBERNETES_NAMES.objectName.test(name)
  ) {
    return `must be a service account written "namespace:name", e.g. "spire:spire-agent"; got ${JSON.stringify(entry)}`
  }
  return undefined
}

function labelKeyProblem(key: string): string | undefined {
  if (!LABEL_KEY.test(key)) {
    return `must be a Kubernetes label key such as "topology.kubernetes.io/zone"; got ${JSON.stringify(key)}`
  }
  return undefined
}
