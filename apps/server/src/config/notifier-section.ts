import type { HclBodyReader } from '@k8s-attest/spire-config'
import { configMapKeyProblem, KUBERNETES_NAMES, readKubeConfigFile } from './kubernetes-settings.ts'
import { type K8sBundleNotifierConfig, SERVER_CONFIG_DEFAULTS } from './server-config.ts'

const EXAMPLE = 'Notifier "k8sbundle" { plugin_data { namespace = "spire" } }'
const CONFIG_MAP_ONLY = "k8s-attest's k8sbundle publishes to a ConfigMap only"

/**
 * Reads `plugins { Notifier "k8sbundle" { plugin_data { … } } }`: at most one notifier, and
 * k8sbundle the only one. SPIRE's keys that push the bundle into webhooks and API services, or
 * into several clusters, are refused with a hint rather than ignored.
 */
export async function readNotifierSection(
  plugins: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): Promise<K8sBundleNotifierConfig | undefined> {
  if (plugins === undefined) return undefined
  let result: K8sBundleNotifierConfig | undefined
  for (const [name, plugin] of plugins.labeledBlocks('Notifier', 'k8sbundle')) {
    if (name !== 'k8sbundle') {
      plugin.report(undefined, `is not a known Notifier plugin; expected ${EXAMPLE}`)
      continue
    }
    // SPIRE's k8sbundle takes an empty plugin_data: every key has a default.
    const pluginData = plugin.block('plugin_data')
    plugin.rejectUnknownKeys({
      plugin_cmd: 'only built-in plugins are supported',
      plugin_data_file: 'use plugin_data',
    })
    result = await readK8sBundlePluginData(pluginData, resolvePath)
  }
  return result
}

async function readK8sBundlePluginData(
  pluginData: HclBodyReader | undefined,
  resolvePath: (path: string) => string,
): Promise<K8sBundleNotifierConfig> {
  const defaults = SERVER_CONFIG_DEFAULTS.bundleNotifier
  if (pluginData === undefined) return { ...defaults, kubeConfigFile: undefined }
  const namespace =
    pluginData.string('namespace', 'a Kubernetes namespace such as "spire"') ?? defaults.namespace
  const configMap =
    pluginData.string('config_map', 'a ConfigMap name such as "spire-bundle"') ?? defaults.configMap
  const configMapKey =
    pluginData.string('config_map_key', 'a ConfigMap data key such as "bundle.crt"') ?? defaults.configMapKey
  const kubeConfigFile = await readKubeConfigFile(pluginData, 'kube_config_file_path', resolvePath)
  pluginData.rejectUnknownKeys({
    kube_config_file: "here it is kube_config_file_path, as in SPIRE's k8sbundle",
    api_service_label: CONFIG_MAP_ONLY,
    webhook_label: CONFIG_MAP_ONLY,
    clusters: `${CONFIG_MAP_ONLY}, in the cluster of kube_config_file_path`,
  })
  if (!KUBERNETES_NAMES.namespace.test(namespace)) {
    pluginData.report(
      'namespace',
      `must be a Kubernetes namespace (a DNS-1123 label: at most 63 lowercase letters, digits and "-"); got ${JSON.stringify(namespace)}`,
    )
  }
  if (configMap.length > 253 || !KUBERNETES_NAMES.objectName.test(configMap)) {
    pluginData.report(
      'config_map',
      `must be a ConfigMap name (a DNS-1123 subdomain: at most 253 lowercase letters, digits, "-" and "."); got ${JSON.stringify(configMap)}`,
    )
  }
  const keyProblem = configMapKeyProblem(configMapKey)
  if (keyProblem !== undefined) {
    pluginData.report(
      'config_map_key',
      `must be a ConfigMap data key (${keyProblem}); got ${JSON.stringify(configMapKey)}`,
    )
  }
  return { namespace, configMap, configMapKey, kubeConfigFile }
}
