import type { CompiledTenant } from '../../governor/index.ts';
import { breaches } from './cap-checks.ts';
import { podResources, record } from './object-usage.ts';
import { addInto, growth, objects, type ResourceVector } from './resource-vector.ts';

/** The workload kinds whose Pods TAI forecasts, by `group/resource`. */
export const WORKLOADS: Readonly<Record<string, (spec: Record<string, unknown>) => number>> = {
  'apps/deployments': (s) => replicas(s.replicas),
  'apps/statefulsets': (s) => replicas(s.replicas),
  'apps/replicasets': (s) => replicas(s.replicas),
  'batch/jobs': (s) => replicas(s.parallelism),
};

/** `spec.replicas` as the API server defaults it: absent means 1. */
function replicas(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 1;
}

/** What a workload's Pods would use at full scale: replicas × the template's count, requests and limits. */
export function workloadFootprint(workload: string, object: unknown): ResourceVector {
  const spec = record(record(object).spec);
  const n = WORKLOADS[workload]?.(spec) ?? 0;
  const template = record(record(spec.template).spec);
  const one: ResourceVector = new Map([['count/pods', objects(1)]]);
  addInto(one, podResources(template, 'requests'));
  addInto(one, podResources(template, 'limits'));
  return addInto(new Map(), one, n);
}

/**
 * AdmissionReview warnings for a Deployment, StatefulSet, ReplicaSet or Job whose Pods, at full scale, would
 * pass one of the tenant's caps. The workload itself is admitted (its Pods are what the caps refuse); the
 * warning tells the user at `kubectl apply` time rather than when Pods fail to appear.
 */
export function workloadWarnings(input: { workload: string; object: unknown; oldObject: unknown; tenant: string; compiled: CompiledTenant; used: ReadonlyMap<string, number> }): string[] {
  const after = workloadFootprint(input.workload, input.object);
  const before = input.oldObject ? workloadFootprint(input.workload, input.oldObject) : undefined;
  const adds = growth(after, before);
  const meta = record(record(input.object).metadata);
  const name = typeof meta.name === 'string' ? meta.name : '';
  return breaches(input.compiled.resources, input.used, adds).map(
    (b) => `tenant "${input.tenant}": ${name} would add ${b.requested} ${b.resource} at full scale, past its cap of ${b.limit} (${b.used} in use); Pods past the cap will be refused`,
  );
}
