// kube-apiserver killed and restarted under a running operator, on a control plane of this test's own (so
// other tests keep theirs): decisions keep being served from the last state, /readyz reports the staleness,
// and the operator catches up when the API server is back, without a restart.
import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, clusterUp, kubectl, pidOf, type Cluster } from './support/cluster.ts';
import { installTai, readiness, startOperator } from './support/operator.ts';
import { eventually, post, stopServe, type Served } from './support/served.ts';

let cluster: Cluster;
let op: Served;

test.before(async () => {
  cluster = await clusterUp(await mkdtemp(join(tmpdir(), 'tai-outage-cluster-')));
  await installTai(cluster);
  const plan = { apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'plan' }, spec: { features: { sso: true }, quotas: { 'api-calls': { limit: 100 } } } };
  const tenant = { apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'outage-co' }, spec: { sku: 'plan' } };
  const applied = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [plan, tenant] }));
  if (applied.code !== 0) throw new Error(applied.stderr);
  op = await startOperator(cluster.kubeconfig, { identity: 'outage' });
});

test.after.always(async () => {
  if (op) await stopServe(op);
  if (cluster) await clusterDown(cluster.dir, true);
});

const peek = (): Promise<Record<string, unknown>> => post(`${op.url}/v1/consume`, { tenant: 'outage-co', metric: 'api-calls', amount: 0 });

test('decisions survive a dead API server, /readyz shows the staleness, and the operator catches up', async (t) => {
  t.like(await peek(), { allowed: true, limit: 100 });
  t.is((await readiness(op.url)).staleMs, 0);

  process.kill(await pidOf(cluster, 'kube-apiserver'), 'SIGKILL');
  t.true(await eventually(async () => (await readiness(op.url)).staleMs > 0, 20_000, 100), '/readyz reports the watch is down');
  t.like(await post(`${op.url}/v1/consume`, { tenant: 'outage-co', metric: 'api-calls', amount: 10 }), { allowed: true, used: 10, limit: 100 });
  t.like(await post(`${op.url}/v1/check`, { tenant: 'outage-co', feature: 'sso' }), { allowed: true });
  const stale = await readiness(op.url);
  t.true(stale.ready, 'still ready: the last good state serves');
  await new Promise((r) => setTimeout(r, 1_500));
  t.true((await readiness(op.url)).staleMs > stale.staleMs, 'staleness grows while the API server is away');

  await clusterUp(cluster.dir); // the same ports and certificates: only kube-apiserver is started again
  const patched = await kubectl(cluster, ['patch', 'sku', 'plan', '--type=merge', '-p', '{"spec":{"quotas":{"api-calls":{"limit":500}}}}']);
  t.is(patched.code, 0, patched.stderr);
  t.true(await eventually(async () => (await peek()).limit === 500, 60_000, 100), 'the change made after the restart is enforced');
  t.true(await eventually(async () => (await readiness(op.url)).staleMs === 0, 30_000, 100), 'staleness clears');
  t.like(await peek(), { used: 10, limit: 500 }, 'usage counted during the outage is kept');
  t.is(op.child.exitCode, null, 'the same operator process throughout');
});
