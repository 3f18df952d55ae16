// The admission webhook highly available (issue 17): three `tai serve` replicas in cluster mode share their
// admission reservations in one real redis-server (--counters), behind a real HAProxy in tcp mode that stands in
// for the webhook's Service (TLS passes through to each replica; /readyz health checks take a dead one out).
// The API server of this test's own control plane calls them with config/webhook as shipped (failurePolicy Fail,
// so a failed webhook call is a failed create): 30 parallel Pod creates against a cap of 10 admit exactly 10, and
// so they do with a replica SIGKILLed during the creates, every other create refused by the cap and nothing else.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError } from '../kube/index.ts';
import { makeTestCa } from './support/certs.ts';
import { clusterDown, clusterUp, kubectl, type Cluster } from './support/cluster.ts';
import { haproxyBackends, startHaproxy, stopHaproxy, type Haproxy } from './support/haproxy.ts';
import { installTai, serviceAccountKubeconfig, startOperator } from './support/operator.ts';
import { startRedis, stopRedis, type RedisServer } from './support/redis-server.ts';
import { eventually, stopServe, type Served } from './support/served.ts';
import { registerWebhook, trustingFetch } from './support/webhook.ts';

let cluster: Cluster;
let redis: RedisServer;
let proxy: Haproxy;
const replicas: Served[] = [];
let fetchTls: ReturnType<typeof trustingFetch>;

const PLAN = { apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'replicated-plan' }, spec: { resources: { namespaces: 2, 'count/pods': 10 } } };
const tenant = (name: string) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { sku: 'replicated-plan' } });
const ns = (name: string, owner: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'tai.dev/tenant': owner } } });
const pod = (namespace: string, name: string) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
  spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1', resources: { requests: { cpu: '1m', memory: '1Mi' } } }] },
});

test.before(async () => {
  cluster = await clusterUp(await mkdtemp(join(tmpdir(), 'tai-admission-replicas-cluster-')));
  await installTai(cluster);
  // Tenants and their namespaces before the replicas start: each lists them, none relies on another's reservation.
  const items = [PLAN, ...['acme', 'bravo', 'charlie'].flatMap((name) => [tenant(name), ns(`${name}-1`, name), ns(`${name}-2`, name)])];
  const applied = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  if (applied.code !== 0) throw new Error(applied.stderr);
  redis = await startRedis();
  const ca = makeTestCa('tai-admission-replicas-ca-');
  const { cert, key } = ca.issue('webhook', '01');
  fetchTls = trustingFetch(ca.caPem);
  const kubeconfig = await serviceAccountKubeconfig(cluster);
  for (let i = 0; i < 3; i++) {
    const args = ['--tls-cert', cert, '--tls-key', key, '--counters', redis.url, '--origin', `tai.dev/test/admission-replica-${i}`];
    replicas.push(await startOperator(kubeconfig, { identity: `replica-${i}`, args }));
  }
  proxy = await startHaproxy(replicas.map((r) => r.url), { mode: 'tcp', healthCheck: '/readyz' });
  if (!(await eventually(async () => Object.values(await haproxyBackends(proxy)).every((s) => s === 'UP'), 30_000, 200))) {
    throw new Error(`HAProxy never saw every replica ready: ${JSON.stringify(await haproxyBackends(proxy))}`);
  }
  await registerWebhook(cluster, proxy.url, ca.caPem);
});

test.after.always(async () => {
  if (proxy) await stopHaproxy(proxy);
  await Promise.all(replicas.map((r) => stopServe(r)));
  if (redis) await stopRedis(redis);
  if (cluster) await clusterDown(cluster.dir, true);
});

/** 30 Pod creates at once over a tenant's two namespaces; `during` runs once the first has been answered. */
async function thirtyCreates(owner: string, during?: () => void): Promise<PromiseSettledResult<unknown>[]> {
  let first = true;
  return Promise.allSettled(
    Array.from({ length: 30 }, async (_, i) => {
      const namespace = `${owner}-${1 + (i % 2)}`;
      try {
        return await cluster.api.request('POST', `/api/v1/namespaces/${namespace}/pods`, { body: pod(namespace, `p${i}`) });
      } finally {
        if (first) during?.();
        first = false;
      }
    }),
  );
}

/** Every create not admitted was refused by the cap, and only by it: a failed webhook call (failurePolicy Fail) shows here. */
function onlyTheCapRefused(t: ExecutionContext, owner: string, results: PromiseSettledResult<unknown>[]): void {
  for (const r of results) {
    if (r.status === 'fulfilled') continue;
    const e = r.reason as unknown;
    const capped = e instanceof KubeApiError && e.status === 403 && new RegExp(`tenant "${owner}": count/pods cap is 10 and 10 is in use across its namespaces`).test(e.message);
    t.true(capped, `refused for another reason than the cap: ${String(e)}`);
  }
}

async function podsOf(owner: string): Promise<number> {
  const listed = await Promise.all([1, 2].map((n) => kubectl(cluster, ['get', 'pods', '-n', `${owner}-${n}`, '-o', 'name'])));
  return listed.flatMap((l) => l.stdout.split('\n')).filter((l) => l.startsWith('pod/')).length;
}

/** How many Pod reviews a replica has answered, from its /metrics. */
async function podReviews(replica: Served): Promise<number> {
  const text = await (await fetchTls(`${replica.url}/metrics`)).text();
  return [...text.matchAll(/^tai_admission_reviews_total\{kind="Pod",[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

test.serial('30 parallel Pod creates through the load balancer over three replicas against a cap of 10: exactly 10 admitted', async (t) => {
  const results = await thirtyCreates('acme');
  t.is(results.filter((r) => r.status === 'fulfilled').length, 10);
  onlyTheCapRefused(t, 'acme', results);
  t.is(await podsOf('acme'), 10);
  // Every replica answered some: on its own reservations each would have admitted up to 10.
  const answered = await Promise.all(replicas.map((r) => podReviews(r)));
  t.true(answered.every((n) => n > 0), `Pod reviews per replica: ${answered.join(', ')}`);
  t.is(answered.reduce((a, b) => a + b, 0), 30, 'each create reviewed once');
});

test.serial('a replica SIGKILLed during 30 parallel creates: never more than 10; the reviews it held fail, nothing else but the cap refuses', async (t) => {
  const victim = replicas[1]!;
  const results = await thirtyCreates('bravo', () => victim.child.kill('SIGKILL'));
  await victim.exited;
  const admitted = results.filter((r) => r.status === 'fulfilled').length;
  t.true(admitted <= 10, `${admitted} admitted`);
  // The API server does not retry a webhook call whose connection broke: a review the dead replica held fails the
  // create (failurePolicy Fail). Those, and refusals by the cap, are the only failures.
  const cut = results.filter((r) => r.status === 'rejected' && wasCut(r.reason));
  onlyTheCapRefused(t, 'bravo', results.filter((r) => !cut.includes(r)));
  t.log(`${admitted} admitted, ${cut.length} creates failed with their review cut by the kill, the rest refused by the cap`);
  t.true(await eventually(async () => (await haproxyBackends(proxy)).r1 === 'DOWN', 10_000, 100), 'HAProxy takes the dead replica out');
  // Created again, as a controller retries: decided by the cap alone, never past 10. Capacity a cut review reserved
  // (its answer never reached the API server) is held until the reservation expires (30 s, docs/adr/0007).
  const names = new Set(results.map((_, i) => i).filter((i) => results[i]!.status === 'rejected'));
  const done = await eventually(async () => {
    const again = await Promise.allSettled([...names].map(async (i) => {
      await cluster.api.request('POST', `/api/v1/namespaces/bravo-${1 + (i % 2)}/pods`, { body: pod(`bravo-${1 + (i % 2)}`, `p${i}`) });
      names.delete(i);
    }));
    onlyTheCapRefused(t, 'bravo', again);
    const pods = await podsOf('bravo');
    t.true(pods <= 10, `${pods} Pods`);
    return pods === 10;
  }, 45_000, 1_000);
  t.true(done, 'exactly 10 once the cut reviews\' reservations expire');
});

test.serial('after the kill, 30 parallel creates over the two survivors: exactly 10 admitted, every other refused by the cap alone', async (t) => {
  const results = await thirtyCreates('charlie');
  t.is(results.filter((r) => r.status === 'fulfilled').length, 10);
  onlyTheCapRefused(t, 'charlie', results);
  t.is(await podsOf('charlie'), 10);
});

/** A failed webhook call whose connection the dead replica's kill cut (EOF or reset), not a refusal. */
function wasCut(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 500 && /failed calling webhook "workloads\.tai\.dev": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/admission\/validate\?timeout=2s": (EOF|.*connection reset by peer)/.test(e.message);
}
