// I/O fault sweep (issue 15, defect 7): a recorded run of decisions in several group commits is replayed once per
// write and fdatasync call it made, with a fault injected at that call (ENOSPC, EIO, a short write, a short write
// then ENOSPC; a failed fdatasync that dropped the dirty pages, or one that kept them). After each: every decision
// answered is in the log at its index after a restart; every decision refused is neither in the log nor counted;
// an "outcome unknown" retried with its key answers what was recorded; the restarted governor holds the running
// one's usage and keys; the published log verifies; and the log writes again once the fault is gone, by itself.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler, type UsageCell } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { generateNoteKey, parseSignerKey, thresholdBody, verifyLog } from '../receipts/index.ts';
import { FaultyFs, SYNC_FAULTS, WRITE_FAULTS, type FaultPlan } from '../receipts/store/faulty-fs.test-helper.ts';
import { LogPublisher, LogUnavailableError, ReceiptLog, type Durability } from '../receipts/store/index.ts';
import { LogReadBack } from './support/log-readback.ts';
import { RecordedGovernor } from '../recording/recorded-governor.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };
const ROUNDS = 4;
const { signerKey, verifierKey } = generateNoteKey('tai.dev/fault-sweep');
const signer = parseSignerKey(signerKey);

interface Answer {
  key: string;
  amount: number;
  outcome: 'ok' | 'refused' | 'unknown';
  receipt?: { index: number; leafHash: string };
}

function policy(): CompiledPolicy {
  const compiler = new PolicyCompiler();
  const sku = skuOf('metered', { quotas: { 'api-calls': { limit: 100_000, enforcement: 'soft', alertAt: [1, 2, 3] } } });
  compiler.apply({ upsert: [sku, tenantOf('acme', { sku: 'metered' })] }, NOW);
  return new CompiledPolicy(compiler);
}

/** A governor whose threshold crossings are receipts too, as in the server. */
function governorOn(log: () => ReceiptLog): Governor {
  return new Governor({ policy: policy(), clock, onThreshold: (e) => void log().append('threshold', thresholdBody({ ...e, windowStart: e.windowStart })) });
}

async function ask(g: RecordedGovernor, key: string, amount: number): Promise<Answer> {
  try {
    const d = await g.consume({ tenant: 'acme', metric: 'api-calls', amount, idempotencyKey: key });
    return { key, amount, outcome: 'ok', receipt: d.receipt };
  } catch (e) {
    if (!(e instanceof LogUnavailableError)) throw e;
    return { key, amount, outcome: e.outcome };
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * In sync durability each round is two group commits: three decisions, then two more sent while the first group
 * is being written (they collect in the next group). In async durability the five are answered at once and the
 * round ends with a flush: one group. Amounts are distinct so a miscount shows.
 */
async function rounds(c: { g: RecordedGovernor; log: ReceiptLog; answers: Answer[] }, prefix: string, n: number): Promise<void> {
  for (let r = 0; r < n; r++) {
    const first = [0, 1, 2].map((i) => ask(c.g, `${prefix}${r}-${i}`, 10 * r + i + 1));
    await tick();
    await tick();
    const second = [3, 4].map((i) => ask(c.g, `${prefix}${r}-${i}`, 10 * r + i + 1));
    c.answers.push(...(await Promise.all([...first, ...second])));
    if (c.log.durability === 'async') await c.log.flush().catch(() => undefined);
  }
}

const sortCells = (cells: Iterable<UsageCell>): UsageCell[] => [...cells].sort((a, b) => a.metric.localeCompare(b.metric));

/** One run: the recorded rounds (with the fault, if planned), recovery, retries, a last round, then a restart. */
async function run(plan: FaultPlan | undefined, durability: Durability): Promise<{ fs: FaultyFs; problems: string[]; answers: Answer[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-fault-'));
  const fs = new FaultyFs(plan);
  const publisher = new LogPublisher({ dir, origin: 'tai.dev/fault-sweep', signer });
  const log = await ReceiptLog.open({ dir, durability, asyncDelayMs: 3_600_000, clock, fs, retry: { firstMs: 1, maxMs: 1 }, onDurable: (e) => publisher.add(e) });
  const governor = governorOn(() => log);
  const g = new RecordedGovernor(governor, log);
  const answers: Answer[] = [];
  await rounds({ g, log, answers }, 'k', ROUNDS);
  const counted = { writes: fs.writes, syncs: fs.syncs };
  await log.whenWritable();
  for (const a of answers.filter((x) => x.outcome === 'unknown')) answers.push(await ask(g, a.key, a.amount));
  await rounds({ g, log, answers }, 'after', 1);
  await log.flush();
  const running = { cells: sortCells(governor.usage.cells()), size: log.size, refusedKeys: answers.filter((a) => a.outcome === 'refused' && governor.idempotency.get('acme', a.key, NOW) !== undefined) };
  await log.close();
  await publisher.publish();

  const problems: string[] = [];
  const fail = (m: string): number => problems.push(`${durability} ${plan ? `${plan.fault}@${plan.at}` : 'no fault'}: ${m}`);
  // Restart: replay the log into a fresh governor, as the server does.
  const read = new LogReadBack();
  const { replay, keys, leaves } = read;
  const reopened = await ReceiptLog.open({ dir, durability: 'sync', clock, onEntry: read.onEntry });
  await reopened.close();
  const restarted = governorOn(() => reopened);
  replay.restore(restarted);
  if (reopened.size !== running.size) fail(`the log holds ${reopened.size} entries after restart, the running log had ${running.size}`);
  for (const a of answers) {
    if (a.outcome === 'ok' && leaves.get(a.receipt!.index) !== a.receipt!.leafHash) fail(`${a.key} was answered with receipt ${a.receipt!.index}, which the log does not hold`);
    if (a.outcome === 'ok' && (restarted.idempotency.get('acme', a.key, NOW) as { receipt?: { index: number } } | undefined)?.receipt?.index !== a.receipt!.index) fail(`${a.key}: its key does not replay its answer after restart`);
    if (a.outcome === 'refused' && keys.has(a.key)) fail(`${a.key} was refused ("nothing was decided") but is in the log`);
    if (a.outcome === 'unknown' && !answers.some((x) => x.key === a.key && x.outcome === 'ok')) fail(`${a.key}: outcome unknown, and its retry was not answered`);
  }
  for (const [key, n] of keys) if (n > 1) fail(`${key} is in the log ${n} times`);
  for (const a of running.refusedKeys) fail(`${a.key} was refused but the running governor remembers its key`);
  const used = running.cells.find((c) => c.metric === 'api-calls')?.used;
  if (used !== read.recordedUnits) fail(`the running governor counted ${used} units, the log's decisions hold ${read.recordedUnits}`);
  if (JSON.stringify(sortCells(restarted.usage.cells())) !== JSON.stringify(running.cells)) fail(`usage after restart ${JSON.stringify(sortCells(restarted.usage.cells()))} ≠ running ${JSON.stringify(running.cells)}`);
  if (!answers.slice(-5).every((a) => a.outcome === 'ok')) fail('decisions after the fault are not all answered');
  const verified = await verifyLog({ read: async (p) => readFile(join(dir, p)).then((b) => new Uint8Array(b)).catch(() => undefined), verifierKey });
  if (!verified.ok || verified.entries !== running.size) fail(`tai log verify: ${verified.entries} entries, ${JSON.stringify(verified.defects)}`);
  if (plan && fs.injected === 0) fail(`the fault was never injected (the run made ${counted.writes} writes, ${counted.syncs} syncs)`);
  await rm(dir, { recursive: true, force: true });
  return { fs: Object.assign(fs, counted), problems, answers };
}

/** Records a fault-free run, then re-runs it with each fault at each write and fdatasync call it made. */
async function sweep(durability: Durability, groupsPerRound: number) {
  const recorded = await run(undefined, durability);
  const { writes, syncs } = recorded.fs;
  const plans: FaultPlan[] = [
    ...WRITE_FAULTS.flatMap((fault) => Array.from({ length: writes }, (_, i) => ({ fault, at: i + 1 }))),
    ...SYNC_FAULTS.flatMap((fault) => Array.from({ length: syncs }, (_, i) => ({ fault, at: i + 1 }))),
  ];
  const tally = { ok: 0, refused: 0, unknown: 0 };
  const problems = [...recorded.problems];
  if (writes !== groupsPerRound * ROUNDS || syncs !== writes) problems.push(`${durability}: the recorded run made ${writes} writes and ${syncs} fdatasyncs, not ${groupsPerRound * ROUNDS} of each`);
  for (const plan of plans) {
    const r = await run(plan, durability);
    problems.push(...r.problems);
    for (const a of r.answers) tally[a.outcome]++;
  }
  return { plans: plans.length, writes, syncs, tally, problems };
}

test('fault sweep, sync durability: every write and fdatasync of a recorded run fails once, in every way; nothing answered is lost, nothing refused is counted', async (t) => {
  t.timeout(60_000);
  const s = await sweep('sync', 2);
  t.deepEqual(s.problems, []);
  t.true(s.tally.unknown > 0 && s.tally.refused > 0, 'decisions met failed writes, and an outage');
  t.log(`${s.plans} fault points injected (${s.writes} writes × ${WRITE_FAULTS.length} faults + ${s.syncs} fdatasyncs × ${SYNC_FAULTS.length}); answers: ${JSON.stringify(s.tally)}`);
});

test('fault sweep, async durability: decisions answered before their write are on disk once the log recovers', async (t) => {
  t.timeout(60_000);
  const s = await sweep('async', 1);
  t.deepEqual(s.problems, []);
  t.is(s.tally.unknown, 0, 'async answers never wait for the write');
  t.true(s.tally.refused > 0, 'requests during the outage were refused');
  t.log(`${s.plans} fault points injected (${s.writes} writes × ${WRITE_FAULTS.length} faults + ${s.syncs} fdatasyncs × ${SYNC_FAULTS.length}); answers: ${JSON.stringify(s.tally)}`);
});
