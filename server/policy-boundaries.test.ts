// Defect 8 of issue 15: a Quota's validFrom/validUntil passing changes a tenant's limit, and that change is a
// reconcile receipt, appended before the first decision that uses it, whether a decision or the timer finds it
// first, in embedded mode and from the cluster feed. Time is an injected clock, timers are fired by the test.
import test, { type ExecutionContext } from 'ava';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler, type Clock } from '../governor/index.ts';
import type { Receipt } from '../receipts/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { ClusterPolicy } from '../operator/cluster-policy.ts';
import type { KubeApi, KubeObject } from '../kube/index.ts';
import { TAI_PATHS } from '../operator/paths.ts';
import { PolicyReceipts } from '../recording/policy-receipts.ts';
import { RecordedGovernor } from '../recording/recorded-governor.ts';
import { EmbeddedPolicy } from './embedded-policy.ts';
import { followPolicyBoundaries, recordPolicyChanges, type Schedule } from './policy-boundaries.ts';
import { readManifestFiles } from './policy-folder.ts';
import { loadManifestSet } from '../crds/index.ts';

/** config/samples' acme-black-friday Quota (+5 000 000 api-calls for acme) ends here. */
const BOUNDARY = Date.parse('2026-12-01T00:00:00Z');
const BOOSTED = 7_000_000;
const AFTER = 2_000_000;

/** Timers the test fires: each scheduled one waits in `waiting` with the delay it asked for. */
function manualTimers(): { schedule: Schedule; waiting: Array<{ fire: () => void; ms: number }> } {
  const waiting: Array<{ fire: () => void; ms: number }> = [];
  const schedule: Schedule = (fire, ms) => {
    const timer = { fire, ms };
    waiting.push(timer);
    return () => void waiting.splice(waiting.indexOf(timer) >>> 0, 1);
  };
  return { schedule, waiting };
}

/** The receipts in a log folder, in order, read back from disk. */
async function receiptsIn(dir: string, clock: Clock): Promise<Receipt[]> {
  const out: Receipt[] = [];
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: (e) => out.push(e.receipt) });
  await log.close();
  return out;
}

const acmeLimitIn = (r: Receipt): unknown => ((r.body.patch as { quotas?: Record<string, { limit?: unknown }> } | null)?.quotas ?? {})['api-calls']?.limit;
/** acme's reconcile receipts: the one of the first load, then one per change. */
const acmeChanges = (receipts: Receipt[]): Receipt[] => receipts.filter((r) => r.kind === 'reconcile' && r.body.resource === 'Tenant/acme');

/** A consume's limit, as answered. */
const limitOf = (d: object): unknown => (d as { limit?: unknown }).limit;

/** A log, a compiler recorded into it with manual timers, and a governor deciding from it, at a clock the test moves. */
async function recordedSetup(t: ExecutionContext) {
  const logDir = await mkdtemp(join(tmpdir(), 'tai-boundary-log-'));
  t.teardown(() => rm(logDir, { recursive: true, force: true }));
  const time = { now: BOUNDARY - 60_000 };
  const clock: Clock = { now: () => time.now };
  const log = await ReceiptLog.open({ dir: logDir, durability: 'async', clock });
  const compiler = new PolicyCompiler();
  const timers = manualTimers();
  const resources = { tenant: (_name: string) => compiler.resources.tenants.get(_name) };
  const stop = recordPolicyChanges({ compiler, receipts: new PolicyReceipts(log, new Map()), tenantResource: (n) => resources.tenant(n), clock, schedule: timers.schedule, onError: (e) => t.fail(String(e)) });
  const governor = new RecordedGovernor(new Governor({ policy: new CompiledPolicy(compiler), clock }), log);
  const finish = async (): Promise<Receipt[]> => {
    stop();
    await log.close();
    return receiptsIn(logDir, clock);
  };
  return { time, clock, log, compiler, timers, governor, finish };
}

async function samplesCopy(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-boundary-policy-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await cp('config/samples', dir, { recursive: true });
  return dir;
}

test('embedded: a decision after validUntil finds the reconcile receipt of the new limit before its own', async (t) => {
  const s = await recordedSetup(t);
  const policy = new EmbeddedPolicy({ dir: await samplesCopy(t), compiler: s.compiler, clock: s.clock });
  await policy.load();
  t.is(limitOf(await s.governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1 })), BOOSTED);
  s.time.now = BOUNDARY; // no timer fired yet: the decision is the first to see the grant end
  const after = await s.governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1 });
  t.is(limitOf(after), AFTER);
  const receipts = await s.finish();
  const changes = acmeChanges(receipts);
  t.deepEqual(changes.map(acmeLimitIn), [BOOSTED, AFTER], 'the first load, then the end of the grant, once');
  const change = changes[1]!;
  t.true(change.index < after.receipt.index, `reconcile at ${change.index}, the decision that used it at ${after.receipt.index}`);
  t.is(change.time, BOUNDARY * 1000, 'recorded when it took effect');
});

test('embedded: with no decision, the timer set for validUntil records the change when it takes effect', async (t) => {
  const s = await recordedSetup(t);
  const policy = new EmbeddedPolicy({ dir: await samplesCopy(t), compiler: s.compiler, clock: s.clock });
  await policy.load();
  t.is(s.timers.waiting.length, 1, 'one timer, for the next boundary');
  t.is(s.timers.waiting[0]!.ms, 60_000);
  s.time.now = BOUNDARY;
  s.timers.waiting[0]!.fire();
  t.is(s.compiler.snapshot.tenants.get('acme')!.quotas['api-calls']!.limit, AFTER);
  t.is(s.timers.waiting.length, 0, 'no boundary left in the samples: no timer');
  const receipts = await s.finish();
  const changes = acmeChanges(receipts);
  t.deepEqual(changes.map(acmeLimitIn), [BOOSTED, AFTER]);
  t.is(changes[1]!.time, BOUNDARY * 1000);
});

test('a timer that fires early changes nothing and waits again for the boundary', async (t) => {
  const compiler = new PolicyCompiler();
  const time = { now: BOUNDARY - 10_000 };
  const timers = manualTimers();
  const files = await readManifestFiles(['config/samples']);
  const stop = followPolicyBoundaries({ compiler, clock: { now: () => time.now }, schedule: timers.schedule, onError: (e) => t.fail(String(e)) });
  t.teardown(stop);
  const before = compiler.apply({ upsert: [...loadManifestSet(files).resources.values()].map((r) => r.resource) }, time.now);
  t.is(timers.waiting[0]!.ms, 10_000);
  time.now = BOUNDARY - 2;
  timers.waiting[0]!.fire();
  t.is(compiler.snapshot, before);
  t.deepEqual(timers.waiting.map((w) => w.ms), [2]);
  stop();
  t.is(timers.waiting.length, 0, 'stopping cancels the timer');
});

/** An API that lists the given objects by path and whose watches never say anything. */
function listingApi(byPath: Record<string, KubeObject[]>): KubeApi {
  return {
    async request<T>(_method: string, path: string): Promise<T> {
      return { metadata: { resourceVersion: '1' }, items: byPath[path] ?? [] } as T;
    },
    async watch() {
      return { abort: () => undefined };
    },
  };
}

test('cluster feed: the timer set for validUntil records the change, and a decision before it would find it recorded first', async (t) => {
  const s = await recordedSetup(t);
  const resources = [...loadManifestSet(await readManifestFiles(['config/samples'])).resources.values()].map((r) => ({ ...r.resource, metadata: { ...r.resource.metadata, resourceVersion: '1' } }) as unknown as KubeObject);
  const of = (kind: string): KubeObject[] => resources.filter((r) => r.kind === kind);
  const api = listingApi({ [TAI_PATHS.SKU]: of('SKU'), [TAI_PATHS.Tenant]: of('Tenant'), [TAI_PATHS.Quota]: of('Quota') });
  const policy = new ClusterPolicy({ api, compiler: s.compiler, clock: s.clock, log: () => undefined, source: 'test' });
  t.teardown(() => policy.stop());
  await policy.start();
  t.is(s.compiler.snapshot.tenants.get('acme')!.quotas['api-calls']!.limit, BOOSTED);
  t.is(s.timers.waiting.length, 1);
  s.time.now = BOUNDARY + 5;
  s.timers.waiting[0]!.fire();
  const after = await s.governor.consume({ tenant: 'acme', metric: 'api-calls', amount: 1 });
  t.is(limitOf(after), AFTER);
  const receipts = await s.finish();
  const changes = acmeChanges(receipts);
  t.deepEqual(changes.map(acmeLimitIn), [BOOSTED, AFTER]);
  t.true(changes[1]!.index < after.receipt.index);
  t.is(changes[1]!.time, (BOUNDARY + 5) * 1000);
});
