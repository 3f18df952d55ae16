import { GROUP, VERSION } from '../crds/index.ts';

/** Collection paths of TAI's kinds (all cluster-scoped). */
export const TAI_PATHS = {
  SKU: `/apis/${GROUP}/${VERSION}/skus`,
  Tenant: `/apis/${GROUP}/${VERSION}/tenants`,
  Quota: `/apis/${GROUP}/${VERSION}/quotas`,
} as const;

/** The objects resource caps count, across all namespaces, and the namespaces themselves. */
export const CORE_PATHS = {
  namespaces: '/api/v1/namespaces',
  pods: '/api/v1/pods',
  services: '/api/v1/services',
  persistentvolumeclaims: '/api/v1/persistentvolumeclaims',
} as const;

/** The path of one TAI object's status subresource. */
export function statusPath(kind: keyof typeof TAI_PATHS, name: string): string {
  return `${TAI_PATHS[kind]}/${encodeURIComponent(name)}/status`;
}
