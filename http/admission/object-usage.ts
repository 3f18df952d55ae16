import { addInto, milli, objects, type ResourceVector } from './resource-vector.ts';

/** The kinds whose objects count against a tenant's caps, by their API resource name. */
export const COUNTED_RESOURCES = ['namespaces', 'pods', 'services', 'persistentvolumeclaims'] as const;
export type CountedResource = (typeof COUNTED_RESOURCES)[number];

export function isCountedResource(resource: string): resource is CountedResource {
  return (COUNTED_RESOURCES as readonly string[]).includes(resource);
}

type Json = Record<string, unknown>;

/**
 * What one object uses of the caps, the way Kubernetes ResourceQuota counts it: a namespace is one
 * `namespaces`; a Pod is one `count/pods` plus its effective requests and limits (finished Pods count nothing);
 * a Service is one `count/services`, one `services.loadbalancers` if of that type, and its node ports; a PVC is
 * one `count/persistentvolumeclaims` and its requested storage. Malformed fields count as zero (the API server
 * has validated what it stores).
 */
export function objectUsage(resource: CountedResource, object: Json): ResourceVector {
  switch (resource) {
    case 'namespaces':
      return new Map([['namespaces', objects(1)]]);
    case 'pods':
      return podUsage(object);
    case 'services':
      return serviceUsage(object);
    case 'persistentvolumeclaims':
      return pvcUsage(object);
  }
}

const POD_RESOURCES = ['cpu', 'memory', 'ephemeral-storage'] as const;

function podUsage(pod: Json): ResourceVector {
  const phase = record(pod.status).phase;
  if (phase === 'Succeeded' || phase === 'Failed') return new Map();
  const out: ResourceVector = new Map([['count/pods', objects(1)]]);
  const spec = record(pod.spec);
  addInto(out, podResources(spec, 'requests'));
  addInto(out, podResources(spec, 'limits'));
  return out;
}

/**
 * A Pod's effective requests (or limits): the larger of what its app containers and sidecars use together and
 * what its largest init container uses alone, plus the runtime overhead (Kubernetes' own formula).
 */
export function podResources(spec: Json, field: 'requests' | 'limits'): ResourceVector {
  const running = new Map<string, number>();
  const initPeak = new Map<string, number>();
  for (const c of list(spec.containers)) addInto(running, containerResources(c, field));
  for (const c of list(spec.initContainers)) {
    const amounts = containerResources(c, field);
    if (record(c).restartPolicy === 'Always') addInto(running, amounts); // a sidecar runs beside the app
    else for (const [k, v] of amounts) initPeak.set(k, Math.max(initPeak.get(k) ?? 0, v));
  }
  const out: ResourceVector = new Map();
  for (const k of new Set([...running.keys(), ...initPeak.keys()])) out.set(k, Math.max(running.get(k) ?? 0, initPeak.get(k) ?? 0));
  addInto(out, containerAmounts(record(spec.overhead), field));
  return out;
}

function containerResources(container: unknown, field: 'requests' | 'limits'): ResourceVector {
  return containerAmounts(record(record(record(container).resources)[field]), field);
}

function containerAmounts(amounts: Json, field: 'requests' | 'limits'): ResourceVector {
  const out: ResourceVector = new Map();
  for (const r of POD_RESOURCES) {
    const v = milli(amounts[r]);
    if (v > 0) out.set(`${field}.${r}`, v);
  }
  return out;
}

function serviceUsage(service: Json): ResourceVector {
  const spec = record(service.spec);
  const out: ResourceVector = new Map([['count/services', objects(1)]]);
  if (spec.type === 'LoadBalancer') out.set('services.loadbalancers', objects(1));
  if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') {
    const nodePorts = list(spec.ports).length;
    if (nodePorts > 0) out.set('services.nodeports', objects(nodePorts));
  }
  return out;
}

function pvcUsage(pvc: Json): ResourceVector {
  const out: ResourceVector = new Map([['count/persistentvolumeclaims', objects(1)]]);
  const storage = milli(record(record(record(pvc.spec).resources).requests).storage);
  if (storage > 0) out.set('requests.storage', storage);
  return out;
}

export function record(value: unknown): Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Json) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
