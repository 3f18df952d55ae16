// The API server calls TAI's admission webhook over TLS (clientConfig.url + caBundle, the rules of
// config/webhook as shipped), on a control plane of this test's own: namespaces, Pods, LoadBalancer Services
// and PVCs are admitted or refused exactly per the tenant's SKU; 30 parallel Pod creates against a cap of 10
// admit exactly 10; a suspended tenant is refused everything; broken TAI objects are refused at apply; the
// decision API asks for a bearer token (TokenReview); /metrics has the latency histograms.
import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiError } from '../kube/index.ts';
import { makeTestCa } from './support/certs.ts';
import { clusterDown, clusterUp, kubectl, type Cluster } from './support/cluster.ts';
import { installTai, serviceAccountKubeconfig, startOperator } from './support/operator.ts';
import { eventually, stopServe, type Served } from './support/served.ts';
import { registerWebhook, trustingFetch } from './support/webhook.ts';

let cluster: Cluster;
let op: Served;
let fetchTls: ReturnType<typeof trustingFetch>;

const PLAN = {
  apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'webhook-plan' },
  spec: { features: { sso: true }, resources: { namespaces: 2, 'count/pods': 10, 'requests.cpu': '10', 'services.loadbalancers': 1, 'requests.storage': '5Gi' } },
};
const tenant = (name: string, suspended = false) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name }, spec: { sku: 'webhook-plan', suspended } });

test.before(async () => {
  cluster = await clusterUp(await mkdtemp(join(tmpdir(), 'tai-admission-cluster-')));
  await installTai(cluster);
  const applied = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [PLAN, tenant('acme'), tenant('umbrella')] }));
  if (applied.code !== 0) throw new Error(applied.stderr);
  const ca = makeTestCa('tai-admission-ca-');
  const { cert, key } = ca.issue('webhook', '01');
  fetchTls = trustingFetch(ca.caPem);
  op = await startOperator(await serviceAccountKubeconfig(cluster), { identity: 'admission', args: ['--tls-cert', cert, '--tls-key', key] });
  await registerWebhook(cluster, op.url, ca.caPem);
});

test.after.always(async () => {
  if (op) await stopServe(op);
  if (cluster) await clusterDown(cluster.dir, true);
});

/** `kubectl create -f -` of one object; the webhook's verdict is in the exit code and stderr. */
const create = (object: object, ...flags: string[]) => kubectl(cluster, ['create', ...flags, '-f', '-'], JSON.stringify(object));
const ns = (name: string, labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
const pod = (namespace: string, name: string, cpu = '1m', labels: Record<string, string> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels },
  spec: { containers: [{ name: 'app', image: 'registry.invalid/app:1', resources: { requests: { cpu, memory: '1Mi' } } }] },
});
const service = (namespace: string, name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type, selector: { app: name }, ports: [{ port: 80 }] } });
const pvc = (namespace: string, name: string, storage: string) => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } },
});

test.serial('tenant namespaces: admitted up to the namespaces cap; past it, and for a missing tenant, refused with the reason', async (t) => {
  t.is((await create(ns('acme-1', { 'tai.dev/tenant': 'acme' }))).code, 0);
  t.is((await create(ns('acme-2', { 'tai.dev/tenant': 'acme' }))).code, 0);
  const third = await create(ns('acme-3', { 'tai.dev/tenant': 'acme' }));
  t.is(third.code, 1);
  t.regex(third.stderr, /Error from server \(ResourceCapExceeded\).*admission webhook "namespaces.tai.dev" denied the request: tenant "acme": namespaces cap is 2 and 2 is in use across its namespaces; namespace acme-3 needs 1 more/);
  const ghost = await create(ns('ghost-1', { 'tai.dev/tenant': 'ghost' }));
  t.regex(ghost.stderr, /\(UnknownTenant\).*there is no Tenant "ghost"/);
  t.is((await create(ns('plain', {}))).code, 0, 'a namespace of no tenant is not governed');
});

test.serial('30 Pod creates in parallel against a cap of 10 admit exactly 10, round after round', async (t) => {
  for (let round = 1; round <= 3; round++) {
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => cluster.api.request('POST', `/api/v1/namespaces/acme-${1 + (i % 2)}/pods`, { body: pod(`acme-${1 + (i % 2)}`, `r${round}-p${i}`, '1m', { round: String(round) }) })),
    );
    const admitted = results.filter((r) => r.status === 'fulfilled').length;
    t.is(admitted, 10, `round ${round}`);
    for (const r of results) {
      if (r.status === 'rejected') t.true(r.reason instanceof KubeApiError && r.reason.status === 403 && /count\/pods cap is 10 and 10 is in use/.test(r.reason.message), String(r.reason));
    }
    const listed = await kubectl(cluster, ['get', 'pods', '-A', '-l', `round=${round}`, '-o', 'name']);
    t.is(listed.stdout.trim().split('\n').length, 10);
    const refused = await create(pod('acme-1', `r${round}-kubectl`));
    t.regex(refused.stderr, /\(ResourceCapExceeded\).*"workloads.tai.dev" denied the request: tenant "acme": count\/pods cap is 10 and 10 is in use/);
    for (const n of ['acme-1', 'acme-2']) t.is((await kubectl(cluster, ['delete', 'pods', '--all', '-n', n, '--wait=false'])).code, 0);
    // Free again once the webhook's informers have seen every delete: a dry run needing the whole cpu cap fits.
    t.true(await eventually(async () => (await create(pod('acme-1', 'probe', '10'), '--dry-run=server')).code === 0, 20_000, 100), `round ${round}: capacity returns`);
  }
});

test.serial('LoadBalancer Services and PVC storage are capped across the tenant namespaces', async (t) => {
  t.is((await create(service('acme-1', 'lb-1', 'LoadBalancer'))).code, 0);
  const lb = await create(service('acme-2', 'lb-2', 'LoadBalancer'));
  t.regex(lb.stderr, /\(ResourceCapExceeded\).*services\.loadbalancers cap is 1 and 1 is in use across its namespaces; Service acme-2\/lb-2 needs 1 more/);
  t.is((await create(service('acme-2', 'internal', 'ClusterIP'))).code, 0);
  t.is((await create(pvc('acme-1', 'data', '3Gi'))).code, 0);
  const big = await create(pvc('acme-2', 'more', '3Gi'));
  t.regex(big.stderr, /\(ResourceCapExceeded\).*requests\.storage cap is 5Gi and 3Gi is in use across its namespaces; PersistentVolumeClaim acme-2\/more needs 3Gi more/);
  t.is((await create(pvc('acme-2', 'fits', '2Gi'))).code, 0);
});

test.serial('a suspended tenant is refused everything with TenantSuspended; resuming lets it through again', async (t) => {
  t.is((await create(ns('umb-1', { 'tai.dev/tenant': 'umbrella' }))).code, 0);
  const patch = (suspended: boolean) => kubectl(cluster, ['patch', 'tenant', 'umbrella', '--type=merge', '-p', JSON.stringify({ spec: { suspended } })]);
  t.is((await patch(true)).code, 0);
  t.true(await eventually(async () => (await create(pod('umb-1', 'probe'), '--dry-run=server')).stderr.includes('TenantSuspended'), 20_000, 100));
  for (const object of [ns('umb-2', { 'tai.dev/tenant': 'umbrella' }), pod('umb-1', 'web'), service('umb-1', 'lb', 'LoadBalancer'), pvc('umb-1', 'data', '1Gi')]) {
    const refused = await create(object);
    t.is(refused.code, 1, object.kind);
    t.regex(refused.stderr, /Error from server \(TenantSuspended\).*tenant "umbrella" is suspended/, object.kind);
  }
  t.is((await patch(false)).code, 0);
  t.true(await eventually(async () => (await create(pod('umb-1', 'web'))).code === 0, 20_000, 100));
});

test.serial('kubectl apply of a Tenant naming a missing SKU, or of an SKU cycle, is refused with the field', async (t) => {
  const broken = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ ...tenant('initech'), spec: { sku: 'platinum' } }));
  t.is(broken.code, 1);
  t.regex(broken.stderr, /\(SKUNotFound\).*"policy.tai.dev" denied the request: Tenant\/initech: spec\.sku: SKU "platinum" does not exist/);
  const sku = (name: string, parent?: string) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name }, spec: parent ? { extends: parent } : {} });
  t.is((await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [sku('base'), sku('derived', 'base')] }))).code, 0);
  const cycle = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify(sku('base', 'derived')));
  t.regex(cycle.stderr, /\(InheritanceCycle\).*"policy.tai.dev" denied the request: SKU\/base: spec.extends: .*SKU inheritance cycle: base → derived → base/s);
});

test.serial('the decision API wants a bearer token: none gets 401, a service-account token 200', async (t) => {
  const check = (headers: Record<string, string>) =>
    fetchTls(`${op.url}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ tenant: 'acme', feature: 'sso' }) });
  const anonymous = await check({});
  t.is(anonymous.status, 401);
  t.is(anonymous.headers.get('www-authenticate'), 'Bearer realm="tai"');
  t.is((await check({ authorization: 'Bearer not-a-token' })).status, 401);
  const token = (await kubectl(cluster, ['create', 'token', 'tai-operator', '-n', 'tai-system'])).stdout.trim();
  const allowed = await check({ authorization: `Bearer ${token}` });
  t.is(allowed.status, 200);
  t.like(await allowed.json(), { allowed: true, reason: 'Allowed' });
});

test.serial('/metrics shows the admission and decision latency histograms and the reviews by reason', async (t) => {
  const text = await (await fetchTls(`${op.url}/metrics`)).text();
  t.regex(text, /tai_admission_duration_seconds_bucket\{le="0\.005",operation="CREATE",kind="Pod"\} \d+/);
  t.regex(text, /tai_decision_duration_seconds_bucket\{le="[0-9.]+",op="check"\} [1-9]/);
  const refused = /tai_admission_reviews_total\{kind="Pod",allowed="false",reason="ResourceCapExceeded"\} (\d+)/.exec(text);
  t.true(Number(refused?.[1]) >= 60, 'at least the 3 × 20 refused parallel creates');
});
