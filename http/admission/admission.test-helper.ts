import type { TaiResource } from '../../crds/index.ts';
import { PolicyCompiler } from '../../governor/index.ts';
import { skuOf, tenantOf } from '../../governor/policy-fixtures.test-helper.ts';
import { AdmissionController } from './admission-controller.ts';
import type { CountedResource } from './object-usage.ts';
import { Reservations } from './reservations.ts';
import { objectKey, ResourceLedger } from './resource-ledger.ts';
import type { AdmissionRequest } from './review.ts';
import { TenantMembership } from './tenant-membership.ts';

/** Two plans, and tenants on them: one suspended, one placing namespaces by its own selector. */
export const POLICY: TaiResource[] = [
  skuOf('small', { resources: { namespaces: 2, 'count/pods': 10, 'requests.cpu': '2', 'requests.memory': '4Gi', 'services.loadbalancers': 0, 'requests.storage': '10Gi' } }),
  skuOf('big', { extends: 'small', resources: { namespaces: 5, 'services.loadbalancers': 1 } }),
  tenantOf('acme', { sku: 'small' }),
  tenantOf('hooli', { sku: 'big' }),
  tenantOf('umbrella', { sku: 'big', suspended: true }),
  tenantOf('stark', { sku: 'small', namespaceSelector: { matchLabels: { customer: 'stark-industries' } } }),
];

/** An admission controller over POLICY, with the ledger the informers would feed and a settable clock. */
export function admissionOver(resources: readonly TaiResource[] = POLICY) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [...resources] }, 0);
  const ledger = new ResourceLedger();
  const reservations = new Reservations();
  const clock = { now: 1_000 };
  const membership = new TenantMembership({ tenants: () => compiler.resources.tenants, generation: () => compiler.snapshot.generation }, ledger);
  const controller = new AdmissionController({
    policy: { tenant: (n) => compiler.snapshot.tenants.get(n), skus: () => compiler.resources.skus, holds: (key) => holds(compiler, key) },
    membership,
    ledger,
    reservations,
    now: () => clock.now,
  });
  /** What the watch delivers: the ledger counts the object and its reservation ends. */
  const deliver = (resource: CountedResource, object: Record<string, unknown>): void => {
    const meta = object.metadata as { name: string; namespace?: string; resourceVersion?: string };
    ledger.upsert(resource, object as never);
    reservations.confirm(objectKey(resource, meta.namespace ?? meta.name, meta.name), meta.resourceVersion);
  };
  return { compiler, ledger, reservations, clock, membership, controller, deliver };
}

/** Whether the compiler holds `SKU/name` or `Tenant/name`. */
export function holds(compiler: PolicyCompiler, key: string): boolean {
  const [kind, name] = key.split('/', 2) as [string, string];
  return kind === 'SKU' ? compiler.resources.skus.has(name) : kind === 'Tenant' ? compiler.resources.tenants.has(name) : false;
}

let uids = 0;

/** An AdmissionRequest for a core object. */
export function requestFor(resource: string, object: Record<string, unknown> | null, fields: Partial<AdmissionRequest> = {}): AdmissionRequest {
  const meta = (object?.metadata ?? {}) as { namespace?: string };
  const kinds: Record<string, string> = { namespaces: 'Namespace', pods: 'Pod', services: 'Service', persistentvolumeclaims: 'PersistentVolumeClaim' };
  return {
    uid: `uid-${++uids}`,
    kind: { group: '', version: 'v1', kind: kinds[resource] ?? resource },
    resource: { group: '', version: 'v1', resource },
    namespace: meta.namespace,
    operation: 'CREATE',
    object,
    ...fields,
  };
}

export const namespace = (name: string, labels: Record<string, string>) => ({ metadata: { name, labels } });
export const pod = (ns: string, name: string, cpu = '100m', memory = '128Mi') => ({
  metadata: { name, namespace: ns },
  spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu, memory } } }] },
});
export const service = (ns: string, name: string, type = 'ClusterIP') => ({ metadata: { name, namespace: ns }, spec: { type, ports: [{ port: 80 }] } });
export const pvc = (ns: string, name: string, storage: string) => ({ metadata: { name, namespace: ns }, spec: { resources: { requests: { storage } } } });
