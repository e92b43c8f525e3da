import type { Cluster } from './cluster.ts'
import type { RunningServer } from './server.ts'
import type { FaultControls } from './test-api.ts'

/**
 * The test API's fault handle: request faults go to the cluster's
 * {@link FaultInjector}, connection faults to the server.
 */

/** {@link FaultControls} over the cluster's faults and watches, and `server`. */
export function faultControls(cluster: Cluster, server: RunningServer): FaultControls {
  const { faults } = cluster
  return {
    inject: (rule) => faults.inject(rule),
    async clear() {
      faults.clear()
      server.setConnectionMode('accept')
      await server.resumeAccepting()
    },
    resetConnections: () => server.setConnectionMode('reset'),
    acceptConnections: () => server.setConnectionMode('accept'),
    stopListening: () => server.stopAccepting(),
    resumeListening: () => server.resumeAccepting(),
    destroyConnections: () => server.destroyConnections(),
    endWatches: () => {
      const open = [...cluster.openWatches]
      for (const end of open) end()
      return open.length
    },
  }
}
