// I/O fault sweep (issue 15, defect 7): a recorded run of decisions in several group commits is replayed once per
// write and fdatasync call it made, with a fault injected at that call (ENOSPC, EIO, a short write, a short write
// then ENOSPC, a failed fdatasync that drops the dirty pages). After each: every decision answered is in the log at
// its index after a restart; every decision refused is neither in the log nor counted; an "outcome unknown" retried
// with its key answers what was recorded; the restarted governor holds the running one's usage and keys; the
// published log verifies; and the log writes again once the fault is gone, by itself.
import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler, type UsageCell } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { generateNoteKey, parseSignerKey, thresholdBody, toHex, verifyLog } from '../receipts/index.ts';
import { FaultyFs, WRITE_FAULTS, type FaultPlan } from '../receipts/store/faulty-fs.test-helper.ts';
import { LogPublisher, LogUnavailableError, ReceiptLog } from '../receipts/store/index.ts';
import { LogReplay } from '../webhook/log-replay.ts';
import { RecordedGovernor } from '../webhook/recorded-governor.ts';

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
 * Each round is two group commits: three decisions, then two more sent while the first group is being written
 * (they collect in the next group). Amounts are distinct so a miscount shows.
 */
async function rounds(g: RecordedGovernor, answers: Answer[], prefix: string, n: number): Promise<void> {
  for (let r = 0; r < n; r++) {
    const first = [0, 1, 2].map((i) => ask(g, `${prefix}${r}-${i}`, 10 * r + i + 1));
    await tick();
    await tick();
    const second = [3, 4].map((i) => ask(g, `${prefix}${r}-${i}`, 10 * r + i + 1));
    answers.push(...(await Promise.all([...first, ...second])));
  }
}

const sortCells = (cells: Iterable<UsageCell>): UsageCell[] => [...cells].sort((a, b) => a.metric.localeCompare(b.metric));

/** One run: the recorded rounds (with the fault, if planned), recovery, retries, a last round, then a restart. */
async function run(plan: FaultPlan | undefined): Promise<{ fs: FaultyFs; problems: string[]; answers: Answer[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-fault-'));
  const fs = new FaultyFs(plan);
  const publisher = new LogPublisher({ dir, origin: 'tai.dev/fault-sweep', signer });
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, fs, retry: { firstMs: 1, maxMs: 1 }, onDurable: (e) => publisher.add(e) });
  const governor = governorOn(() => log);
  const g = new RecordedGovernor(governor, log);
  const answers: Answer[] = [];
  await rounds(g, answers, 'k', ROUNDS);
  const counted = { writes: fs.writes, syncs: fs.syncs };
  await log.whenWritable();
  for (const a of answers.filter((x) => x.outcome === 'unknown')) answers.push(await ask(g, a.key, a.amount));
  await rounds(g, answers, 'after', 1);
  const running = { cells: sortCells(governor.usage.cells()), size: log.size, refusedKeys: answers.filter((a) => a.outcome === 'refused' && governor.idempotency.get('acme', a.key, NOW) !== undefined) };
  await log.close();
  await publisher.publish();

  const problems: string[] = [];
  const fail = (m: string): number => problems.push(`${plan ? `${plan.fault}@${plan.at}` : 'no fault'}: ${m}`);
  // Restart: replay the log into a fresh governor, as the server does.
  const replay = new LogReplay();
  const keys = new Map<string, number>();
  const leaves = new Map<number, string>();
  let recordedUnits = 0;
  const reopened = await ReceiptLog.open({
    dir,
    durability: 'sync',
    clock,
    onEntry: (e) => {
      replay.add(e);
      leaves.set(e.index, toHex(e.leafHash));
      const { body } = e.receipt;
      if (typeof body.idempotencyKey === 'string') keys.set(body.idempotencyKey, (keys.get(body.idempotencyKey) ?? 0) + 1);
      if (e.receipt.kind === 'decision' && body.allowed === true) recordedUnits += body.amount as number;
    },
  });
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
  if (used !== recordedUnits) fail(`the running governor counted ${used} units, the log's decisions hold ${recordedUnits}`);
  if (JSON.stringify(sortCells(restarted.usage.cells())) !== JSON.stringify(running.cells)) fail(`usage after restart ${JSON.stringify(sortCells(restarted.usage.cells()))} ≠ running ${JSON.stringify(running.cells)}`);
  if (!answers.slice(-5).every((a) => a.outcome === 'ok')) fail('decisions after the fault are not all answered');
  const verified = await verifyLog({ read: async (p) => readFile(join(dir, p)).then((b) => new Uint8Array(b)).catch(() => undefined), verifierKey });
  if (!verified.ok || verified.entries !== running.size) fail(`tai log verify: ${verified.entries} entries, ${JSON.stringify(verified.defects)}`);
  if (plan && fs.injected === 0) fail(`the fault was never injected (the run made ${counted.writes} writes, ${counted.syncs} syncs)`);
  await rm(dir, { recursive: true, force: true });
  return { fs: Object.assign(fs, counted), problems, answers };
}

test('fault sweep: every write and fdatasync of a recorded run fails once, in every way; nothing answered is lost, nothing refused is counted', async (t) => {
  t.timeout(60_000);
  const recorded = await run(undefined);
  t.deepEqual(recorded.problems, []);
  const { writes, syncs } = recorded.fs;
  t.is(writes, 2 * ROUNDS, 'one write per group commit');
  t.is(syncs, 2 * ROUNDS, 'one fdatasync per group commit');
  const plans: FaultPlan[] = [
    ...WRITE_FAULTS.flatMap((fault) => Array.from({ length: writes }, (_, i) => ({ fault, at: i + 1 }))),
    ...Array.from({ length: syncs }, (_, i) => ({ fault: 'fdatasync' as const, at: i + 1 })),
  ];
  const tally = { ok: 0, refused: 0, unknown: 0 };
  const problems: string[] = [];
  for (const plan of plans) {
    const r = await run(plan);
    problems.push(...r.problems);
    for (const a of r.answers) tally[a.outcome]++;
  }
  t.deepEqual(problems, []);
  t.true(tally.unknown > 0, 'some decisions met a failed write');
  t.log(`${plans.length} fault points injected (${writes} writes × ${WRITE_FAULTS.length} faults + ${syncs} fdatasyncs); answers: ${JSON.stringify(tally)}`);
});
