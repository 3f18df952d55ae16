// Counters the store loses are restored from the replicas' logs before anything counts again (design §12): with
// Redis flushed or killed and restarted empty mid-load, three replicas never allow past a hard limit, and the
// count comes back to what their logs hold. Each replica's "log" here is the view the server's replay keeps: the
// count each of its allowed consumes saw.
import test from 'ava';
import { SharedGovernor, type ConsumeDecision, type UsageCell } from '../governor/index.ts';
import { ManualClock, MutablePolicy, quota, tenant } from '../governor/fixtures.test-helper.ts';
import { flushRedis, redisCall, restartRedis, startRedis, stopRedis } from '../test/support/redis-server.ts';
import { useRedis } from './redis.test-helper.ts';
import { openSharedStore, type SharedStore } from './redis-connect.ts';

const fixture = useRedis(test);
const stores = fixture.stores;

/** A replica: its governor, and its log's view of usage (the last count each of its allowed consumes saw). */
async function replica(name: string, policy: MutablePolicy, clock: ManualClock): Promise<{ governor: SharedGovernor; store: SharedStore; allowed: ConsumeDecision[] }> {
  const view = new Map<string, UsageCell>();
  // A generous deadline: a call that times out counts on the store until its late reply gives it back, and a
  // loaded machine would make the count run ahead of the answers for a moment.
  const store = await openSharedStore({ url: fixture.server.url, timeoutMs: 3000 }, name, { view: () => view.values() });
  stores.push(store);
  const inner = new SharedGovernor({ policy, clock, counters: store.counters, answers: store.answers });
  const allowed: ConsumeDecision[] = [];
  const governor = Object.assign(Object.create(inner) as SharedGovernor, {
    consume: async (r: Parameters<SharedGovernor['consume']>[0]) => {
      const d = await inner.consume(r);
      if (d.allowed && d.reason !== 'CountersUnavailable') {
        allowed.push(d);
        const key = `${d.tenant}\u0000${d.metric}`;
        const cell = view.get(key);
        if (cell === undefined || cell.windowStart !== d.windowStart || cell.used < d.used) view.set(key, { tenant: d.tenant, metric: d.metric, windowStart: d.windowStart, used: d.used, fired: 0 });
      }
      return d;
    },
  });
  return { governor, store, allowed };
}

async function until(probe: () => boolean, ms = 15_000): Promise<void> {
  for (const end = Date.now() + ms; !probe() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25));
}

for (const loss of ['flushed', 'killed and restarted empty'] as const) {
  test.serial(`Redis ${loss} mid-load: no hard limit passed at any moment, and the count is restored from the logs`, async (t) => {
    await flushRedis(fixture.server);
    const clock = new ManualClock();
    const policy = new MutablePolicy(tenant({ name: 'acme', quotas: { builds: quota({ limit: 150 }) } }));
    const replicas = await Promise.all(['r0', 'r1', 'r2'].map((n) => replica(`${loss}-${n}`, policy, clock)));
    t.teardown(() => Promise.all(replicas.map((r) => r.store.close())));
    for (const r of replicas) await until(() => r.store.health().epoch.state === 'ready');
    const answers: ConsumeDecision[] = [];
    let stop = false;
    const load = Promise.all(
      Array.from({ length: 9 }, async (_, i) => {
        while (!stop) {
          answers.push(await replicas[i % 3]!.governor.consume({ tenant: 'acme', metric: 'builds', amount: 1 }));
          await new Promise((r) => setTimeout(r, 2));
        }
      }),
    );
    await until(() => answers.filter((a) => a.allowed).length >= 60);
    if (loss === 'flushed') await flushRedis(fixture.server);
    else await restartRedis(fixture.server);
    const lostAt = answers.length;
    await until(() => answers.slice(lostAt).some((a) => a.allowed && a.reason === 'Allowed'));
    await until(() => answers.filter((a) => a.reason === 'QuotaExceeded').length >= 5);
    stop = true;
    await load;
    const allowed = replicas.flatMap((r) => r.allowed);
    t.true(allowed.length <= 150, `${allowed.length} allowed against a limit of 150`);
    t.is(allowed.length, 150, 'the limit is reached, not undershot, once the count is restored');
    t.true(answers.slice(lostAt).some((a) => a.reason === 'CountersUnavailable' && !a.allowed), 'decisions denied while the counters were being restored');
    t.deepEqual([...new Set(allowed.map((a) => a.used))].length, 150, 'every allowed unit saw its own count: none was counted twice');
    const peek = await replicas[0]!.governor.consume({ tenant: 'acme', metric: 'builds', amount: 0 });
    t.is(peek.used, 150);
  });
}

test.serial('a failover that kept the epoch but lost the last writes: the replicas fold their counts back in on reconnecting', async (t) => {
  const persistent = await startRedis({ persist: true });
  t.teardown(() => stopRedis(persistent));
  const clock = new ManualClock();
  const policy = new MutablePolicy(tenant({ name: 'acme', quotas: { builds: quota({ limit: 50 }) } }));
  const views = [new Map<string, UsageCell>(), new Map<string, UsageCell>()];
  const stores = await Promise.all(views.map((v, i) => openSharedStore({ url: persistent.url, timeoutMs: 500 }, `failover-${i}`, { view: () => v.values() })));
  t.teardown(() => Promise.all(stores.map((s) => s.close())));
  for (const s of stores) await until(() => s.health().epoch.state === 'ready');
  const governors = stores.map((s) => new SharedGovernor({ policy, clock, counters: s.counters, answers: s.answers }));
  for (let i = 0; i < 30; i++) {
    const d = await governors[i % 2]!.consume({ tenant: 'acme', metric: 'builds', amount: 1 });
    views[i % 2]!.set('acme\u0000builds', { tenant: 'acme', metric: 'builds', windowStart: d.windowStart, used: d.used, fired: 0 });
  }
  // The standby that takes over missed the last writes: the count it serves is behind what was allowed.
  await redisCall(persistent, ['HSET', '{tai}:u:acme:builds', 'u', '12']);
  await restartRedis(persistent);
  const peek = async (): Promise<number> => (await governors[0]!.consume({ tenant: 'acme', metric: 'builds', amount: 0 })).used;
  await until(() => false, 1500);
  let used = 0;
  for (let i = 0; i < 100 && (used = await peek()) !== 30; i++) await new Promise((r) => setTimeout(r, 50));
  t.is(used, 30, 'the count the replicas recorded is back');
});
