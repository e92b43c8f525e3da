import { serviceAccount as serviceAccountSchema } from '../api-types.ts'
import type { ResourceDefinition } from './definition.ts'

/** The `serviceaccounts` resource; DELETE answers with the deleted account. */
export const serviceAccounts: ResourceDefinition = {
  group: '',
  version: 'v1',
  resource: 'serviceaccounts',
  kind: 'ServiceAccount',
  listKind: 'ServiceAccountList',
  namespaced: true,
  schema: serviceAccountSchema,
  nameRule: 'dns1123-subdomain',
  hasStatus: false,
  deleteReturnsObject: true,
}
