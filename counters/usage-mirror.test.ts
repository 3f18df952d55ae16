// The operator's copy of the shared counters: after a refresh it reads what the replicas counted, per window.
import test from 'ava';
import { SharedGovernor, type UsageCell } from '../governor/index.ts';
import { ManualClock, MutablePolicy, quota, tenant } from '../governor/fixtures.test-helper.ts';
import { connectStore, openSharedStore } from './redis-connect.ts';
import { useRedis } from './redis.test-helper.ts';
import { UsageMirror } from './usage-mirror.ts';

const fixture = useRedis(test);

test('a refreshed mirror reads each tenant metric as the shared counters hold it, in its window; it refuses to count', async (t) => {
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name: 'mirror-a', quotas: { builds: quota({ limit: 50 }), seats: quota({ kind: 'gauge', limit: 9 }) } }), tenant({ name: 'mirror-b' }));
  const store = await openSharedStore({ url: fixture.server.url, timeoutMs: 2000 }, 'mirror');
  fixture.stores.push(store);
  const g = new SharedGovernor({ policy, clock, counters: store.counters, answers: store.answers });
  const built = await g.consume({ tenant: 'mirror-a', metric: 'builds', amount: 7 });
  await g.consume({ tenant: 'mirror-a', metric: 'seats', amount: 3 });
  await g.consume({ tenant: 'mirror-b', metric: 'api-calls', amount: 11 });
  const client = await connectStore({ url: fixture.server.url, timeoutMs: 2000 });
  t.teardown(() => client.destroy());
  const mirror = new UsageMirror(client);
  t.deepEqual(mirror.read({ tenant: 'mirror-a', metric: 'builds' }, built.windowStart), { used: 0, fired: 0 }, 'nothing before a refresh');
  await mirror.refresh();
  t.deepEqual(mirror.read({ tenant: 'mirror-a', metric: 'builds' }, built.windowStart), { used: 7, fired: 0 });
  t.deepEqual(mirror.read({ tenant: 'mirror-a', metric: 'seats' }, null), { used: 3, fired: 0 });
  t.deepEqual(mirror.read({ tenant: 'mirror-a', metric: 'builds' }, 0), { used: 0, fired: 0 }, 'another window reads empty');
  const cells = [...mirror.cells()].filter((c: UsageCell) => c.tenant.startsWith('mirror-'));
  t.is(cells.length, 3);
  t.throws(() => mirror.reserve({ key: { tenant: 'mirror-a', metric: 'builds' }, windowStart: null, amount: 1 }), { message: /read-only/ });
});
