import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../../kube/index.ts';
import { kubectl, type Cluster } from './cluster.ts';
import { getJson, startServe, type Served } from './served.ts';

/** Applies the CRDs (and waits until they are served) and the operator's RBAC. */
export async function installTai(c: Cluster): Promise<void> {
  for (const args of [['apply', '-k', 'config/crd'], ['apply', '-k', 'config/rbac'], ['wait', '--for=condition=Established', 'crd/skus.tai.dev', 'crd/tenants.tai.dev', 'crd/quotas.tai.dev', '--timeout=60s']]) {
    const r = await kubectl(c, args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  }
}

/**
 * A kubeconfig for the operator's own ServiceAccount (config/rbac), with a token from the TokenRequest API:
 * the operator then runs with exactly the permissions the RBAC in config/rbac grants.
 */
export async function serviceAccountKubeconfig(c: Cluster): Promise<string> {
  const token = await kubectl(c, ['create', 'token', 'tai-operator', '-n', 'tai-system', '--duration=2h']);
  if (token.code !== 0) throw new Error(`kubectl create token: ${token.stderr}`);
  const view = await kubectl(c, ['config', 'view', '--raw', '--minify', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}']);
  const path = join(await mkdtemp(join(tmpdir(), 'tai-sa-')), 'kubeconfig');
  await writeFile(
    path,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: "${c.env.TAI_APISERVER_URL}", certificate-authority-data: "${view.stdout.trim()}" } }]
users: [{ name: tai-operator, user: { token: "${token.stdout.trim()}" } }]
contexts: [{ name: c, context: { cluster: c, user: tai-operator } }]
current-context: c
`,
    { mode: 0o600 },
  );
  return path;
}

/**
 * Starts `tai serve --kubeconfig` with a short lease (so takeovers are quick) and its own log. Loopback without
 * authentication unless `args` say otherwise (the admission test adds TLS and TokenReview).
 */
export async function startOperator(kubeconfig: string, o: { identity: string; leaseSeconds?: number; args?: readonly string[] }): Promise<Served & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), `tai-op-${o.identity}-`));
  const served = await startServe([
    '--kubeconfig', kubeconfig,
    '--listen', '127.0.0.1:0',
    '--log', join(dir, 'log'),
    '--key', join(dir, 'key'),
    '--identity', o.identity,
    '--lease-namespace', 'tai-system',
    '--lease-duration', String(o.leaseSeconds ?? 4),
    ...(o.args ?? ['--auth', 'none']),
  ]);
  return { ...served, dir };
}

export interface OperatorReadiness {
  ready: boolean;
  staleMs: number;
  generation: number;
  operator: { leader: boolean; statusWrites: number; events: number };
}

export async function readiness(url: string): Promise<OperatorReadiness> {
  return (await getJson(`${url}/readyz`)) as unknown as OperatorReadiness;
}

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

/** The Ready condition of an object, if its status has one for the object's current generation. */
export function currentReady(o: KubeObject): Condition | undefined {
  const status = o.status as { observedGeneration?: number; conditions?: Condition[] } | undefined;
  if (status?.observedGeneration !== o.metadata.generation) return undefined;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  return ready?.observedGeneration === o.metadata.generation ? ready : undefined;
}
