// Admission on shared reservations (tai serve --counters), against a store that follows the rules of
// counters/redis-reservations.ts in memory (the real one is tested on a real redis-server in counters/): replicas
// with their own informer caches admit exactly up to a cap together, the tenant checks come first, and a store out
// of reach refuses what adds to a cap (CountersUnavailable) and nothing else.
import test from 'ava';
import { CountersUnavailableError, PolicyCompiler, type ReserveAttempt, type ReserveAttemptResult, type SharedReservations } from '../../governor/index.ts';
import { AdmissionController } from './admission-controller.ts';
import { holds, namespace, pod, POLICY, requestFor } from './admission.test-helper.ts';
import { Reservations } from './reservations.ts';
import { ResourceLedger } from './resource-ledger.ts';
import { SharedCaps } from './shared-caps.ts';
import { TenantMembership } from './tenant-membership.ts';

interface Stored {
  key: string;
  amounts: ReadonlyMap<string, number>;
  confirmedBy: Set<string>;
}

/** The store's rules in memory: one synchronous step per attempt (as one Lua script is), without expiry. */
class MemoryReservations implements SharedReservations {
  readonly byTenant = new Map<string, Map<string, Stored>>();
  attempts: ReserveAttempt[] = [];

  async reserve(a: ReserveAttempt): Promise<ReserveAttemptResult> {
    this.attempts.push(a);
    const held = this.byTenant.get(a.tenant) ?? new Map<string, Stored>();
    this.byTenant.set(a.tenant, held);
    const reserved = new Map([...a.caps.keys()].map((r) => [r, 0]));
    const unjudged = [];
    for (const [uid, r] of held) {
      if (uid === a.reservation?.uid || r.confirmedBy.has(a.replica)) continue;
      if (a.confirmed.includes(uid)) r.confirmedBy.add(a.replica);
      else if (a.pending.includes(uid) || a.unjudgedPending) for (const res of a.caps.keys()) reserved.set(res, reserved.get(res)! + (r.amounts.get(res) ?? 0));
      else unjudged.push({ uid, key: r.key, expiresInMs: 30_000 });
    }
    if (unjudged.length > 0) return { outcome: 'unjudged', reservations: unjudged };
    const fits = [...a.caps].every(([res, limit]) => (a.adds.get(res) ?? 0) <= 0 || (a.observed.get(res) ?? 0) + reserved.get(res)! + a.adds.get(res)! <= limit);
    if (fits && a.reservation) held.set(a.reservation.uid, { key: a.reservation.key, amounts: a.adds, confirmedBy: new Set() });
    return { outcome: fits ? 'admitted' : 'exceeded', reserved };
  }

  async release(tenant: string, uid: string): Promise<void> {
    this.byTenant.get(tenant)?.delete(uid);
  }
}

/** A store out of reach: every call fails as RedisReservations does when it cannot answer in time. */
const unreachable: SharedReservations = {
  reserve: () => Promise.reject(new CountersUnavailableError('shared counters unavailable: no answer within 250 ms')),
  release: () => Promise.reject(new CountersUnavailableError('shared counters unavailable: no answer within 250 ms')),
};

/** One webhook replica: its own ledger (informer cache) and reservations, the shared store. */
function replica(name: string, store: SharedReservations) {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [...POLICY] }, 0);
  const ledger = new ResourceLedger();
  const now = (): number => 1_000;
  const membership = new TenantMembership({ tenants: () => compiler.resources.tenants, generation: () => compiler.snapshot.generation }, ledger);
  const controller = new AdmissionController({
    policy: { tenant: (n) => compiler.snapshot.tenants.get(n), skus: () => compiler.resources.skus, holds: (key) => holds(compiler, key) },
    membership,
    ledger,
    reservations: new Reservations(),
    shared: new SharedCaps({ store, replica: name, ledger, now }),
    now,
  });
  for (const ns of ['acme-a', 'acme-b']) ledger.upsert('namespaces', namespace(ns, { 'tai.dev/tenant': 'acme' }) as never);
  ledger.upsert('namespaces', namespace('umb-a', { 'tai.dev/tenant': 'umbrella' }) as never);
  return { controller, ledger };
}

test('three replicas on one store: 30 concurrent Pod reviews against a cap of 10 admit exactly 10', async (t) => {
  const store = new MemoryReservations();
  const replicas = ['r0', 'r1', 'r2'].map((n) => replica(n, store));
  const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => replicas[i % 3]!.controller.verdict(requestFor('pods', pod(i % 2 ? 'acme-a' : 'acme-b', `p${i}`, '10m', '1Mi')))));
  t.is(answers.filter((a) => a.allowed).length, 10);
  for (const a of answers.filter((x) => !x.allowed)) t.like(a, { reason: 'ResourceCapExceeded', cap: { resource: 'count/pods', limit: '10', used: '10' } });
  t.is(store.byTenant.get('acme')!.size, 10);
});

test('the tenant checks come before the store; a dry run reserves nothing; decide() says to call verdict()', async (t) => {
  const store = new MemoryReservations();
  const { controller } = replica('r0', store);
  t.like(await controller.verdict(requestFor('pods', pod('umb-a', 'p'))), { allowed: false, reason: 'TenantSuspended' });
  t.is(store.attempts.length, 0);
  t.like(await controller.verdict(requestFor('pods', pod('acme-a', 'dry'), { dryRun: true })), { allowed: true, reserved: false });
  t.is(store.attempts.at(-1)!.reservation, undefined);
  t.is(store.byTenant.get('acme')!.size, 0);
  t.throws(() => controller.decide(requestFor('pods', pod('acme-a', 'p'))), { message: /decided asynchronously; call verdict/ });
});

test('the store out of reach: a request adding to a cap is refused CountersUnavailable; one adding to none is decided as usual', async (t) => {
  const { controller } = replica('r0', unreachable);
  const refused = await controller.verdict(requestFor('pods', pod('acme-a', 'web')));
  t.like(refused, { allowed: false, reason: 'CountersUnavailable', tenant: 'acme', reserved: false });
  t.regex(refused.message!, /^tenant "acme": Pod acme-a\/web adds to its count\/pods, requests\.cpu, requests\.memory cap, and the reservations shared by TAI's replicas cannot be reached \(shared counters unavailable: no answer within 250 ms\)/);
  const configMap = { metadata: { name: 'settings', namespace: 'acme-a' }, data: {} };
  t.like(controller.decide(requestFor('configmaps', configMap)), { allowed: true, tenant: 'acme' });
  controller.release(requestFor('pods', pod('acme-a', 'web')));
});

test('a Pod in a namespace another replica admitted moments ago waits for the watch to deliver it, and is counted', async (t) => {
  const store = new MemoryReservations();
  const { controller, ledger } = replica('r1', store);
  setTimeout(() => ledger.upsert('namespaces', namespace('acme-new', { 'tai.dev/tenant': 'acme' }) as never), 50);
  const started = performance.now();
  t.like(await controller.review(requestFor('pods', pod('acme-new', 'web'))), { allowed: true, tenant: 'acme', reserved: true });
  t.true(performance.now() - started >= 40);
  t.is(store.byTenant.get('acme')!.size, 1);
});
