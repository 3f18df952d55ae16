// Admission reservations shared in a real redis-server (test/support/redis-server.ts), as three webhook replicas
// use them, each with its own informer cache: together exactly up to a cap; an object one replica's cache holds
// is counted once there, and its reservation still counts on a replica whose cache lags; a released or retried
// review holds nothing twice; a stalled store is CountersUnavailable.
import test from 'ava';
import { ResourceLedger, SharedCaps, type SharedCapRequest } from '../http/admission/index.ts';
import { pauseRedis, resumeRedis } from '../test/support/redis-server.ts';
import { useRedis } from './redis.test-helper.ts';
import { openSharedStore } from './redis-connect.ts';

const fixture = useRedis(test);
const stores = fixture.stores;

interface Replica {
  caps: SharedCaps;
  ledger: ResourceLedger;
}

async function replicas(n: number, timeoutMs = 2000): Promise<Replica[]> {
  const out: Replica[] = [];
  for (let i = 0; i < n; i++) {
    const s = await openSharedStore({ url: fixture.server.url, timeoutMs }, `replica-${i}`);
    stores.push(s);
    for (let w = 0; w < 100 && !s.health().connected; w++) await new Promise((r) => setTimeout(r, 20));
    const ledger = new ResourceLedger();
    out.push({ ledger, caps: new SharedCaps({ store: s.reservations, replica: `replica-${i}`, ledger, now: () => Date.now() }) });
  }
  return out;
}

let tenants = 0;
const fresh = (): string => `t${process.pid}-${++tenants}`;

const POD = new Map([['count/pods', 1000]]);
/** A Pod create in namespace `<tenant>-ns` against a cap of `limit` Pods, usage as `r`'s ledger counts it. */
const create = (r: Replica, tenant: string, name: string, limit: number): SharedCapRequest => ({
  tenant, uid: `uid-${name}`, key: `pods/${tenant}-ns/${name}`, replaces: undefined, caps: new Map([['count/pods', limit * 1000]]), adds: POD,
  observed: () => new Map(r.ledger.totals(`${tenant}-ns`)), reserve: true, ttlMs: 30_000,
});
const pod = (tenant: string, name: string) => ({ metadata: { name, namespace: `${tenant}-ns`, resourceVersion: '1' }, spec: { containers: [] } });

test('three replicas, 30 concurrent creates against a cap of 10: exactly 10 admitted, the rest see 10 in use', async (t) => {
  const tenant = fresh();
  const rs = await replicas(3);
  const verdicts = await Promise.all(Array.from({ length: 30 }, (_, i) => rs[i % 3]!.caps.reserve(create(rs[i % 3]!, tenant, `p${i}`, 10))));
  t.is(verdicts.filter((v) => v.outcome === 'admitted').length, 10);
  for (const v of verdicts.filter((x) => x.outcome !== 'admitted')) t.deepEqual(v, { outcome: 'exceeded', used: new Map([['count/pods', 10_000]]) });
});

test('an object one replica’s informers hold counts once there, and by its reservation on a replica that has not seen it', async (t) => {
  const tenant = fresh();
  const [a, b] = await replicas(2);
  t.like(await a!.caps.reserve(create(a!, tenant, 'p1', 2)), { outcome: 'admitted' });
  // B's informers deliver p1: B counts it from its ledger, not twice.
  b!.ledger.upsert('pods', pod(tenant, 'p1'));
  t.deepEqual(await b!.caps.reserve(create(b!, tenant, 'p2', 2)), { outcome: 'admitted', used: new Map([['count/pods', 1000]]) });
  // A has seen neither: p1 and p2 count by their reservations, and a third Pod does not fit.
  t.deepEqual(await a!.caps.reserve(create(a!, tenant, 'p3', 2)), { outcome: 'exceeded', used: new Map([['count/pods', 2000]]) });
  // Once A's informers deliver both (and a dry run checks), A counts 2 from its ledger and nothing reserved.
  a!.ledger.upsert('pods', pod(tenant, 'p1'));
  a!.caps.confirm(`pods/${tenant}-ns/p1`, '1');
  a!.ledger.upsert('pods', pod(tenant, 'p2'));
  t.deepEqual(await a!.caps.reserve({ ...create(a!, tenant, 'p4', 2), reserve: false }), { outcome: 'exceeded', used: new Map([['count/pods', 2000]]) });
  // p1 deleted: A's ledger drops it, and its reservation (confirmed by A) no longer counts there.
  a!.ledger.remove('pods', pod(tenant, 'p1'));
  t.like(await a!.caps.reserve(create(a!, tenant, 'p5', 2)), { outcome: 'admitted' });
});

test('a released reservation frees its capacity; a review retried on another replica is counted once', async (t) => {
  const tenant = fresh();
  const [a, b] = await replicas(2);
  t.like(await a!.caps.reserve(create(a!, tenant, 'p1', 1)), { outcome: 'admitted' });
  t.like(await b!.caps.reserve(create(b!, tenant, 'p2', 1)), { outcome: 'exceeded' });
  a!.caps.release('uid-p1');
  await new Promise((r) => setTimeout(r, 50));
  t.like(await b!.caps.reserve(create(b!, tenant, 'p2', 1)), { outcome: 'admitted' });
  // The API server retries p2's review (same UID) on A: it replaces p2's reservation, so it still fits.
  t.like(await a!.caps.reserve(create(a!, tenant, 'p2', 1)), { outcome: 'admitted' });
  t.like(await a!.caps.reserve(create(a!, tenant, 'p3', 1)), { outcome: 'exceeded' });
});

test('a stalled store: the verdict is unavailable within the timeout, and capacity is exact once it answers again', async (t) => {
  const tenant = fresh();
  const [a] = await replicas(1, 300);
  pauseRedis(fixture.server);
  try {
    const v = await a!.caps.reserve(create(a!, tenant, 'p1', 1));
    t.is(v.outcome, 'unavailable');
    t.regex((v as { error: string }).error, /no answer within 300 ms/);
  } finally {
    resumeRedis(fixture.server);
  }
  // The reserve that timed out ran once Redis resumed and was given back: p2 fits.
  await new Promise((r) => setTimeout(r, 200));
  t.like(await a!.caps.reserve(create(a!, tenant, 'p2', 1)), { outcome: 'admitted' });
});
