// Rendered kustomize bases as plain objects, and the pieces of a pod spec the deploy tests look at.
import { parseAllDocuments } from 'yaml';
import { kubectl, type Cluster } from './cluster.ts';

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Container {
  name: string;
  image: string;
  args: string[];
  env?: Array<{ name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string }; configMapKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: Record<string, unknown>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
}

export interface Probe {
  httpGet: { path: string; port: string | number; scheme?: string };
}

export interface TopologySpread {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector: { matchLabels: Record<string, string> };
}

export interface PodSpec {
  serviceAccountName?: string;
  securityContext?: Record<string, unknown>;
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: TopologySpread[];
  containers: Container[];
  volumes?: Array<{ name: string; secret?: { secretName: string }; emptyDir?: object; csi?: object }>;
}

/** `kubectl kustomize DIR`, every document as an object. */
export async function render(c: Cluster, dir: string): Promise<Manifest[]> {
  const r = await kubectl(c, ['kustomize', dir]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${dir}: ${r.stderr}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Manifest);
}

export function only(objects: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
}

export function podSpecOf(workload: Manifest): PodSpec {
  return (workload.spec as { template: { spec: PodSpec } }).template.spec;
}

/** Kubernetes' `$(VAR)` expansion of container args: defined names replaced, `$$` an escaped `$`. */
export function expandArgs(args: readonly string[], env: Record<string, string>): string[] {
  return args.map((a) => a.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (name === undefined ? '$' : (env[name] ?? m))));
}

/** The container's env as the kubelet would set it for `podName`, config map keys read from `objects`. */
export function containerEnv(container: Container, pod: { name: string; namespace: string }, objects: readonly Manifest[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const field = e.valueFrom?.fieldRef?.fieldPath;
    const ref = e.valueFrom?.configMapKeyRef;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (field === 'metadata.name') env[e.name] = pod.name;
    else if (field === 'metadata.namespace') env[e.name] = pod.namespace;
    else if (ref) env[e.name] = (only(objects, 'ConfigMap', ref.name).data as Record<string, string>)[ref.key]!;
    else throw new Error(`env ${e.name}: a source this test does not model`);
  }
  return env;
}

/** Container args with each `--flag=PATH` under a mount path moved to that mount's local folder (`mounts`: path → folder). */
export function argsUnderMounts(args: readonly string[], mounts: ReadonlyMap<string, string>): string[] {
  return args.map((a) => {
    const [path, dir] = [...mounts].find(([p]) => a.includes(`=${p}/`) || a.endsWith(`=${p}`)) ?? [];
    return path === undefined ? a : a.replace(`=${path}`, `=${dir}`);
  });
}
