// End to end against a real kube-apiserver (hack/cluster-up.sh): CRDs, the operator's status and Events,
// apply-to-enforce, and two replicas electing a leader. The operator runs as its own ServiceAccount with the
// RBAC of config/rbac, so a missing permission fails here.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { KubeObject } from '../kube/index.ts';
import { measureApplyToEnforce } from './support/apply-to-enforce.ts';
import { clusterUp, kubectl, type Cluster } from './support/cluster.ts';
import { currentReady, installTai, readiness, serviceAccountKubeconfig, startOperator } from './support/operator.ts';
import { eventually, post, stopServe, type Served } from './support/served.ts';

const LEASE_SECONDS = 4;
let cluster: Cluster;
let saKubeconfig: string;
let a: Served & { dir: string };
let b: (Served & { dir: string }) | undefined;

test.before(async () => {
  cluster = await clusterUp();
  await installTai(cluster);
  // A clean slate: a developer's cluster may hold TAI objects from an earlier run.
  await kubectl(cluster, ['delete', 'tenants,skus,quotas', '--all', '--wait=false']);
  await kubectl(cluster, ['delete', 'lease', 'tai-operator', '-n', 'tai-system', '--ignore-not-found']);
  saKubeconfig = await serviceAccountKubeconfig(cluster);
  a = await startOperator(saKubeconfig, { identity: 'op-a', leaseSeconds: LEASE_SECONDS });
});

test.after.always(async () => {
  await Promise.all([a && stopServe(a), b && stopServe(b)]);
});

async function list(plural: string): Promise<KubeObject[]> {
  return (await cluster.api.request<{ items: KubeObject[] }>('GET', `/apis/tai.dev/v1alpha1/${plural}`)).items;
}

async function get(plural: string, name: string): Promise<KubeObject> {
  return cluster.api.request<KubeObject>('GET', `/apis/tai.dev/v1alpha1/${plural}/${name}`);
}

async function readyOf(plural: string, name: string): Promise<ReturnType<typeof currentReady>> {
  return currentReady(await get(plural, name));
}

test.serial('the CRDs are accepted as structural and kubectl explain prints the field descriptions', async (t) => {
  for (const plural of ['skus', 'tenants', 'quotas']) {
    const crd = JSON.parse((await kubectl(cluster, ['get', 'crd', `${plural}.tai.dev`, '-o', 'json'])).stdout) as { status: { conditions: Array<{ type: string; status: string }> } };
    t.true(crd.status.conditions.some((c) => c.type === 'Established' && c.status === 'True'), plural);
    t.false(crd.status.conditions.some((c) => c.type === 'NonStructuralSchema'), `${plural} is structural`);
  }
  let explain = { code: -1, stdout: '', stderr: '' };
  // The OpenAPI of a new CRD is published a moment after it is Established.
  await eventually(async () => (explain = await kubectl(cluster, ['explain', 'tenant.spec.overrides'])).code === 0, 30_000, 250);
  t.is(explain.code, 0, explain.stderr);
  t.regex(explain.stdout.replace(/\s+/g, ' '), /An RFC 7396 JSON merge patch applied over the entitlements resolved from the SKU chain/);
});

test.serial('kubectl apply -f config/samples: every resource becomes Ready for its current generation', async (t) => {
  const applied = await kubectl(cluster, ['apply', '-f', 'config/samples']);
  t.is(applied.code, 0, applied.stderr);
  const allReady = async (): Promise<boolean> => {
    const objects = [...(await list('skus')), ...(await list('tenants')), ...(await list('quotas'))];
    return objects.length === 12 && objects.every((o) => currentReady(o)?.status === 'True');
  };
  t.true(await eventually(allReady, 30_000, 100), 'every SKU, Tenant and Quota Ready=True with a current observedGeneration');
  const wait = await kubectl(cluster, ['wait', '--for=condition=Ready', 'tenants', '--all', '--timeout=30s']);
  t.is(wait.code, 0, wait.stderr);
  const table = await kubectl(cluster, ['get', 'tenants']);
  t.regex(table.stdout.split('\n')[0]!, /NAME\s+SKU\s+SUSPENDED\s+NAMESPACES\s+USAGE\s+READY\s+AGE/);
  t.regex(table.stdout, /\nacme\s+growth\s+0\s+0\s+True/);
  t.regex(table.stdout, /\numbrella\s+growth\s+true\s+0\s+0\s+True/);
  const umbrella = (await get('tenants', 'umbrella')).status as { conditions: Array<{ type: string; status: string }> };
  t.like(umbrella.conditions.find((c) => c.type === 'Suspended'), { status: 'True' });
});

test.serial('a Tenant naming a missing SKU is SKUNotFound with an Event, and recovers when fixed; an SKU cycle is InheritanceCycle', async (t) => {
  await kubectl(cluster, ['patch', 'tenant', 'stark', '--type=merge', '-p', '{"spec":{"sku":"no-such-plan"}}']);
  t.true(await eventually(async () => (await readyOf('tenants', 'stark'))?.reason === 'SKUNotFound', 15_000, 50));
  t.like(await readyOf('tenants', 'stark'), { status: 'False', message: 'spec.sku: SKU "no-such-plan" not found: create it or correct spec.sku' });
  const events = async (): Promise<string> => (await kubectl(cluster, ['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=stark', '-o', 'jsonpath={.items[*].reason}'])).stdout;
  t.true(await eventually(async () => (await events()).includes('SKUNotFound'), 10_000, 100), 'a Warning Event names the reason');
  // The governor keeps serving stark's last good compilation meanwhile.
  t.like(await post(`${a.url}/v1/check`, { tenant: 'stark', feature: 'max-projects' }), { allowed: true, value: 3 });

  await kubectl(cluster, ['patch', 'tenant', 'stark', '--type=merge', '-p', '{"spec":{"sku":"starter"}}']);
  t.true(await eventually(async () => (await readyOf('tenants', 'stark'))?.status === 'True', 15_000, 50), 'recovers');

  const cycle = ['loop-a', 'loop-b'].map((name, i) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name }, spec: { extends: i === 0 ? 'loop-b' : 'loop-a' } }));
  t.is((await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: cycle }))).code, 0);
  for (const name of ['loop-a', 'loop-b']) {
    t.true(await eventually(async () => (await readyOf('skus', name))?.reason === 'InheritanceCycle', 15_000, 50), name);
  }
  t.regex((await readyOf('skus', 'loop-a'))!.message, /loop-a → loop-b → loop-a|loop-b → loop-a → loop-b/);
  await kubectl(cluster, ['delete', 'sku', 'loop-a', 'loop-b']);
});

test.serial('a Quota whose validUntil passes turns active: false by itself, with no decision and no edit (the one boundary timer)', async (t) => {
  const until = new Date(Date.now() + 4000).toISOString();
  const quota = { apiVersion: 'tai.dev/v1alpha1', kind: 'Quota', metadata: { name: 'flash-sale' }, spec: { tenant: 'acme', metric: 'api-calls', mode: 'add', limit: 10, validUntil: until } };
  t.is((await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(quota))).code, 0);
  const active = async (): Promise<unknown> => ((await get('quotas', 'flash-sale')).status as { active?: boolean } | undefined)?.active;
  t.true(await eventually(async () => (await active()) === true, 15_000, 50), 'active while the sale runs');
  t.true(await eventually(async () => (await active()) === false, 20_000, 100), `inactive after ${until}`);
  await kubectl(cluster, ['delete', 'quota', 'flash-sale']);
});

test.serial('changing an SKU limit with kubectl changes the next consume decision; apply-to-enforce over 60 changes', async (t) => {
  const plan = { apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'metered' }, spec: { quotas: { 'api-calls': { limit: 1000, window: 'month' } } } };
  const tenant = { apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'meter-co' }, spec: { sku: 'metered' } };
  t.is((await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [plan, tenant] }))).code, 0);
  t.true(await eventually(async () => (await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 0 })).limit === 1000));
  t.like(await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 1500 }), { allowed: false, reason: 'QuotaExceeded', limit: 1000 });

  t.is((await kubectl(cluster, ['patch', 'sku', 'metered', '--type=merge', '-p', '{"spec":{"quotas":{"api-calls":{"limit":2000}}}}'])).code, 0);
  t.true(await eventually(async () => (await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 0 })).limit === 2000));
  t.like(await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 1500 }), { allowed: true, reason: 'Allowed', used: 1500, limit: 2000 });

  const m = await measureApplyToEnforce(cluster.api, { url: a.url, sku: 'metered', tenant: 'meter-co', metric: 'api-calls', changes: 60, firstLimit: 3000 });
  t.is(m.latenciesMs.length, 60);
  t.log(`apply-to-enforce over ${m.latenciesMs.length} SKU changes: p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms, max ${m.max.toFixed(1)} ms (target p99 ≤ 1000 ms)`);
  t.like(await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 0 }), { limit: 3059 });

  // Every change of meter-co's effective entitlements is a reconcile receipt in the operator's log.
  await new Promise((r) => setTimeout(r, 1_500)); // a signed checkpoint at least every second
  const query = spawnSync(process.execPath, ['cli/tai.ts', 'log', 'query', join(a.dir, 'log'), '--kind', 'reconcile', '--vkey', join(a.dir, 'key.pub')], { encoding: 'utf8' });
  t.is(query.status, 0, query.stderr);
  const receipts = query.stdout.split('\n').filter((l) => l.includes('"resource":"Tenant/meter-co"'));
  t.true(receipts.length >= 62, `creation, the kubectl change and 60 measured changes: ${receipts.length} receipts`);
  t.regex(receipts.at(-1)!, /"patch":\{"quotas":\{"api-calls":\{"limit":3059\}\}\}/);

  // Each alert threshold crossed is an Event on the Tenant: 70 % by the 1500 of 2000 above, 90 % now.
  t.like(await post(`${a.url}/v1/consume`, { tenant: 'meter-co', metric: 'api-calls', amount: 1254 }), { allowed: true, used: 2754 });
  const messages = async (): Promise<string> => (await kubectl(cluster, ['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=meter-co,reason=QuotaThreshold', '-o', 'jsonpath={.items[*].message}'])).stdout;
  t.true(await eventually(async () => (await messages()).includes('api-calls crossed 90%: 2754 of 3059 used'), 10_000, 100), 'a QuotaThreshold Event');
  t.true((await messages()).includes('api-calls crossed 70%: 1500 of 2000 used'));
});

test.serial('two operators: both serve decisions, only the leader writes status, and the other takes over within the lease', async (t) => {
  b = await startOperator(saKubeconfig, { identity: 'op-b', leaseSeconds: LEASE_SECONDS });
  t.true(await eventually(async () => (await readiness(b!.url)).ready));
  t.like(await post(`${b.url}/v1/check`, { tenant: 'initech', feature: 'audit-log' }), { allowed: true, value: true }, 'the follower keeps a hot governor');
  const [ra, rb] = [await readiness(a.url), await readiness(b.url)];
  t.true(ra.operator.leader, 'the first replica holds the lease');
  t.false(rb.operator.leader);

  await kubectl(cluster, ['patch', 'tenant', 'globex', '--type=merge', '-p', '{"spec":{"suspended":true}}']);
  const generation = (await get('tenants', 'globex')).metadata.generation;
  t.true(await eventually(async () => (await readyOf('tenants', 'globex')) !== undefined, 15_000, 50), 'the leader writes the new generation');
  t.is((await readiness(b.url)).operator.statusWrites, 0, 'the follower writes no status');
  t.is((await readiness(b.url)).operator.events, 0, 'nor Events');

  a.child.kill('SIGKILL'); // no release: the follower must wait out the lease
  const killedAt = Date.now();
  t.true(await eventually(async () => (await readiness(b!.url)).operator.leader, 3 * LEASE_SECONDS * 1000, 50), 'the follower becomes the leader');
  const takeoverMs = Date.now() - killedAt;
  t.log(`takeover ${takeoverMs} ms after the leader was killed (lease ${LEASE_SECONDS} s)`);
  // The bound leader election promises: the lease duration, plus up to one retry period (2/15 of it) before the
  // follower saw the last renewal and one before it looks again, plus slack for this poll on a busy machine.
  t.true(takeoverMs <= LEASE_SECONDS * 1000 * (1 + 4 / 15) + 1_500, `took over within the lease time (${takeoverMs} ms)`);

  await kubectl(cluster, ['patch', 'tenant', 'globex', '--type=merge', '-p', '{"spec":{"suspended":false}}']);
  t.true(await eventually(async () => {
    const o = await get('tenants', 'globex');
    return o.metadata.generation! > generation! && currentReady(o) !== undefined;
  }, 15_000, 50), 'the new leader writes status');
  t.true((await readiness(b.url)).operator.statusWrites > 0);
});
