import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import test from 'ava';
import { CompiledPolicy, Governor, IdempotencyCache, MarkedMap, MemoryUsageStore, PolicyCompiler, type EffectiveDocument } from '../governor/index.ts';
import { loadRunState, saveRunState, type RunState } from '../receipts/store/index.ts';
import { replayStateOf, type ReplayState } from './log-replay.ts';

const NOW = Date.parse('2026-06-15T12:00:00Z');
const TTL = 60_000;
const WINDOW = Date.parse('2026-06-01T00:00:00Z');

/** A governor holding `n` tenants' usage and answers stored over the last minute (the oldest expire first). */
function held(n: number): { governor: Governor; effective: MarkedMap<string, EffectiveDocument>; clock: { now: number } } {
  const clock = { now: NOW };
  const usage = new MemoryUsageStore();
  const idempotency = new IdempotencyCache<never>({ ttlMs: TTL, maxKeys: n + 50 });
  const governor = new Governor({ policy: new CompiledPolicy(new PolicyCompiler()), clock: { now: () => clock.now }, usage, idempotency });
  const effective = new MarkedMap<string, EffectiveDocument>();
  for (let i = 0; i < n; i++) {
    const tenant = `tenant-${i}`;
    usage.reserve({ key: { tenant, metric: 'api-calls' }, windowStart: WINDOW, amount: i + 1 });
    const storedAt = NOW - TTL + 1 + Math.floor((i * TTL) / (2 * n)); // half of them expire within 30 s of NOW
    idempotency.remember(tenant, `request-${i}`, { tenant, used: i + 1, padding: 'x'.repeat(200) } as never, storedAt);
    effective.set(tenant, { sku: 'growth', features: { sso: i % 2 === 0 } } as unknown as EffectiveDocument);
  }
  return { governor, effective, clock };
}

/** A capture's JSON, read whole. */
function textOf(replay: ReturnType<typeof replayStateOf>): string {
  return JSON.stringify({ cells: [...replay.cells], answers: [...replay.answers], effective: Object.fromEntries(replay.effective.entries) });
}

/** The state as the capture before issue 19 took it: whole copies, in one tick. */
function wholeCopy(governor: Governor, effective: MarkedMap<string, EffectiveDocument>, now: number): ReplayState {
  return { cells: [...governor.usage.cells()], answers: [...governor.idempotency.entries(now)] as ReplayState['answers'], effective: Object.fromEntries(effective) };
}

test('a sliced save writes exactly the state at its capture while usage, answers and entitlements change under it', async (t) => {
  const { governor, effective, clock } = held(20_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-capture-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const expected = JSON.stringify(wholeCopy(governor, effective, clock.now));
  const replay = replayStateOf(governor, effective, clock.now);
  let saved = false;
  const saving = saveRunState(join(dir, 'state.json'), { version: 1, log: { size: 7 }, publisher: {}, replay } as unknown as RunState).then(() => (saved = true));
  let turns = 0;
  for (let i = 0; !saved; i++, turns++) {
    clock.now += 100; // answers expire and are pruned from the front while the save reads them
    const tenant = `tenant-${(i * 7919) % 20_000}`;
    governor.usage.reserve({ key: { tenant, metric: 'api-calls' }, windowStart: i % 3 === 0 ? WINDOW + 1 : WINDOW, amount: 5 });
    governor.usage.reserve({ key: { tenant: `new-${i}`, metric: 'api-calls' }, windowStart: WINDOW, amount: 1 });
    governor.usage.setFired({ tenant, metric: 'api-calls' }, WINDOW, 90);
    governor.idempotency.remember(tenant, `later-${i}`, { later: i } as never, clock.now); // past maxKeys: evicts the oldest
    const stored = governor.idempotency.get(`tenant-${19_999 - i}`, `request-${19_999 - i}`, clock.now);
    if (stored !== undefined) governor.idempotency.replace(`tenant-${19_999 - i}`, `request-${19_999 - i}`, stored, { replaced: i } as never);
    if (i % 2 === 0) effective.delete(tenant);
    else effective.set(tenant, { changed: i } as unknown as EffectiveDocument);
    effective.set(`new-${i}`, { added: i } as unknown as EffectiveDocument);
    await nextTurn();
  }
  await saving;
  t.true(turns > 5, `the save took ${turns} turns: changes were made while it ran`);
  // Compared as text (ava's deepEqual is slow on 20 000 members): the same JSON, member for member, in order.
  t.not(JSON.stringify(wholeCopy(governor, effective, clock.now)), expected, 'the state changed during the save');
  t.true(JSON.stringify((await loadRunState<ReplayState>(join(dir, 'state.json')))?.replay) === expected, 'state.json holds the state at its capture');
  // Read to its end, the capture was released: the next one is taken as a mark again and sees the state now.
  t.true(textOf(replayStateOf(governor, effective, clock.now)) === JSON.stringify(wholeCopy(governor, effective, clock.now)));
});

test('a save that fails releases its capture: the next capture is taken in O(1) and is exact', async (t) => {
  const { governor, effective, clock } = held(100);
  const replay = replayStateOf(governor, effective, clock.now);
  const dir = await mkdtemp(join(tmpdir(), 'tai-capture-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'file'), '');
  await t.throwsAsync(saveRunState(join(dir, 'file', 'state.json'), { version: 1, log: { size: 1 }, publisher: {}, replay } as unknown as RunState));
  replay.release(); // as the log driver does after any save
  const expected = JSON.stringify(wholeCopy(governor, effective, clock.now));
  const next = replayStateOf(governor, effective, clock.now);
  governor.usage.reserve({ key: { tenant: 'tenant-3', metric: 'api-calls' }, windowStart: WINDOW, amount: 5 });
  governor.idempotency.remember('tenant-3', 'another', { another: true } as never, clock.now);
  effective.delete('tenant-3');
  t.is(textOf(next), expected);
});
