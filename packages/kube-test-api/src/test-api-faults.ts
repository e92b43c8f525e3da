import type { FaultInjector } from './faults.ts'
import type { RunningServer } from './server.ts'
import type { FaultControls } from './test-api.ts'

/**
 * The test API's fault handle: request faults go to the cluster's
 * {@link FaultInjector}, connection faults to the server.
 */

/** {@link FaultControls} over `faults` and `server`. */
export function faultControls(faults: FaultInjector, server: RunningServer): FaultControls {
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
  }
}
