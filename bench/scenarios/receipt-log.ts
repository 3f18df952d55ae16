/**
 * The receipt log targets of design §10, each beside the irreducible work it stands on:
 * - append (encode + hash + chain + tree, one core) beside SHA-256 of the same bytes alone;
 * - verify (verifyLog over an in-memory published log) beside decodeEntryBundle + hashLeaf alone;
 * - verify on every core (verifyLogInWorkers, worker threads by bundle range) beside verifyLog on the same
 *   1M-entry log in the same run;
 * - durable append through ReceiptLog (sync, 1 000 concurrent appenders) beside raw writeSync + fdatasync of the
 *   same bytes in the same group sizes;
 * - consume with receipt (Governor.consume + decisionReceiptBody + ReceiptChain.append) beside bare consume.
 * Restart is measured on a real `tai serve` process by the restart scenario (restart.ts).
 */
import { hash } from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler } from '../../governor/index.ts';
import {
  decisionBody,
  decodeEntryBundle,
  entryBundlePath,
  generateNoteKey,
  hashLeaf,
  ReceiptChain,
  signCheckpoint,
  TILE_WIDTH,
  TileBuilder,
  verifyLog,
  type ReceiptBody,
} from '../../receipts/index.ts';
import { verifyLogInWorkers } from '../../receipts/client/index.ts';
import { ReceiptLog } from '../../receipts/store/index.ts';
import { decisionReceiptBody } from '../../recording/decision-receipts.ts';
import { BENCH_NOW, population } from '../fixtures/population.ts';
import { median, pairedRuns } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

type Log = (line: string) => void;

const T0_MICROS = BENCH_NOW * 1000;
const ORIGIN = 'bench.tai.dev/receipt-log';
const POLICY_DIGEST = hash('sha256', 'bench policy');
/** Written by every loop so the optimiser cannot drop the work. */
let sink: unknown;

/** A consume decision body as the decision API writes it (~250 bytes encoded); every 8th carries an idempotency key. */
function realisticBody(i: number): ReceiptBody {
  return decisionBody({
    tenant: `tenant-${String(i % 10_000).padStart(7, '0')}`,
    op: 'consume',
    subject: 'api-calls',
    amount: 1,
    allowed: true,
    reason: 'Allowed',
    used: 1 + (i % 100_000),
    limit: 1_000_000,
    policyDigest: POLICY_DIGEST,
    idempotencyKey: i % 8 === 0 ? `req-${i}` : undefined,
    windowStart: Date.parse('2026-06-01T00:00:00Z'),
    resetsAt: '2026-07-01T00:00:00Z',
  });
}

/** Bodies to cycle through: building them is not part of an append. */
const BODIES = Array.from({ length: 4096 }, (_, i) => realisticBody(i));
const bodyAt = (i: number): ReceiptBody => BODIES[i % BODIES.length]!;

/** Entries of a log of `n` realistic decisions, in order. */
function entryBytes(n: number): Uint8Array[] {
  const chain = new ReceiptChain();
  return Array.from({ length: n }, (_, i) => chain.append('decision', bodyAt(i), T0_MICROS + i).bytes);
}

const perSecond = (count: number, ns: number): number => Math.round((count * 1e9) / ns);
const elapsedNs = (start: bigint): number => Number(process.hrtime.bigint() - start);

// ---- append ----

function appendFigure(preset: Preset, log: Log): Figure {
  const n = preset.name === 'full' ? 1_000_000 : 100_000;
  const bytes = entryBytes(n);
  const plan = { runs: preset.name === 'full' ? 9 : 5, warmupRuns: 1 };
  log(`receipt-log: append ${n} entries × ${plan.runs} runs`);
  const subject = (): number => {
    const chain = new ReceiptChain();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = chain.append('decision', bodyAt(i), T0_MICROS + i);
    return perSecond(n, elapsedNs(start));
  };
  const baseline = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) sink = hash('sha256', bytes[i]!, 'buffer');
    return perSecond(n, elapsedNs(start));
  };
  const runs = pairedRuns(subject, baseline, plan);
  return figureOf({
    scenario: 'receipt-log', name: 'append: encode + hash + chain + tree (1 core)', tenants: 10_000, value: median(runs.subject), unit: 'entries/s',
    baseline: { name: 'SHA-256 of the same entry bytes alone (node:crypto)', value: median(runs.baseline) },
    target: { op: '>=', value: 100_000, unit: 'entries/s', source: 'design §10: ≥ 100 000 entries/s appended on one core' },
    samples: runs.subject, note: `median of ${plan.runs} runs × ${n} ReceiptChain.append of ~${bytes[0]!.length}-byte decision receipts`,
  });
}

// ---- verify ----

/** A published log in memory: path → bytes, as LogPublisher would write it. */
function publishedLog(n: number): { files: Map<string, Uint8Array>; verifierKey: string } {
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  const files = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    tiles.add(chain.append('decision', bodyAt(i), T0_MICROS + i));
    if (i % TILE_WIDTH === TILE_WIDTH - 1) keepFull(files, tiles);
  }
  for (const f of tiles.drain()) files.set(f.path, f.bytes);
  const key = generateNoteKey(ORIGIN, new Uint8Array(32).fill(7));
  files.set('checkpoint', new TextEncoder().encode(signCheckpoint({ origin: ORIGIN, size: n, root: chain.root() }, key.signerKey)));
  return { files, verifierKey: key.verifierKey };
}

/** Full tiles drained so far; the partial ones drained with them are superseded, as LogPublisher deletes them. */
function keepFull(files: Map<string, Uint8Array>, tiles: TileBuilder): void {
  for (const f of tiles.drain()) if (f.full) files.set(f.path, f.bytes);
}

async function verifyFigure(preset: Preset, log: Log): Promise<Figure> {
  const n = preset.name === 'full' ? 200_000 : 100_000;
  const { files, verifierKey } = publishedLog(n);
  const runs = preset.name === 'full' ? 5 : 3;
  log(`receipt-log: verifyLog over ${n} published entries × ${runs} runs`);
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const start = process.hrtime.bigint();
    const result = await verifyLog({ read: async (p) => files.get(p), verifierKey });
    const ns = elapsedNs(start);
    if (!result.ok || result.entries !== n) throw new Error(`receipt-log: the bench log does not verify: ${JSON.stringify(result.defects[0])}`);
    const base = bundleHashRun(files, n);
    if (r === 0) continue; // warm-up
    subject.push(perSecond(n, ns));
    baseline.push(perSecond(n, base));
  }
  return figureOf({
    scenario: 'receipt-log', name: `verify: verifyLog over ${n.toLocaleString('en-US')} entries`, tenants: 10_000, value: median(subject), unit: 'entries/s',
    baseline: { name: 'decodeEntryBundle + hashLeaf alone', value: median(baseline) },
    target: { op: '>=', value: 300_000, unit: 'entries/s', source: 'design §10: verify ≥ 300 000 entries/s' },
    samples: subject, note: `median of ${runs} runs after 1 warm-up; checkpoint signature, strict decode + re-encode, index, prev, tree root and every hash tile`,
  });
}

/**
 * Verify on every core: verifyLogInWorkers against verifyLog (one thread) on the same 1M-entry log, alternating,
 * after one warm-up of each. The log is built once (~30 s); 200 000 entries with quick.
 */
async function workersVerifyFigure(preset: Preset, log: Log): Promise<Figure> {
  const n = preset.name === 'full' ? 1_000_000 : 200_000;
  const { files, verifierKey } = publishedLog(n);
  const read = async (p: string): Promise<Uint8Array | undefined> => files.get(p);
  const runs = 3;
  const cores = availableParallelism();
  log(`receipt-log: verifyLogInWorkers (${cores} workers) and verifyLog over ${n} published entries × ${runs} runs`);
  const timed = async (verify: () => Promise<{ ok: boolean; entries: number }>): Promise<number> => {
    const start = process.hrtime.bigint();
    const result = await verify();
    const ns = elapsedNs(start);
    if (!result.ok || result.entries !== n) throw new Error('receipt-log: the bench log does not verify');
    return perSecond(n, ns);
  };
  const subject: number[] = [];
  const baseline: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const workers = await timed(() => verifyLogInWorkers({ read, verifierKey }));
    const single = await timed(() => verifyLog({ read, verifierKey }));
    if (r === 0) continue; // warm-up
    subject.push(workers);
    baseline.push(single);
  }
  return figureOf({
    scenario: 'receipt-log', name: `verify on every core: verifyLogInWorkers over ${n.toLocaleString('en-US')} entries`, tenants: 10_000, value: median(subject), unit: 'entries/s',
    baseline: { name: 'verifyLog, one thread, same log', value: median(baseline) },
    target: { op: '>=', value: 300_000, unit: 'entries/s', source: 'issue 19: verify ≥ 300 000 entries/s using every core (a 1M-entry log in ≤ 4 s)' },
    samples: subject, note: `median of ${runs} runs after 1 warm-up, alternating with verifyLog; ${cores} worker threads (os.availableParallelism()) by ranges of 32 bundles; checks as verifyLog`,
  });
}

/** The irreducible part of verifying: split every bundle and hash every entry. Returns ns. */
function bundleHashRun(files: Map<string, Uint8Array>, n: number): number {
  const start = process.hrtime.bigint();
  for (let b = 0; b * TILE_WIDTH < n; b++) {
    const width = Math.min(TILE_WIDTH, n - b * TILE_WIDTH);
    for (const entry of decodeEntryBundle(files.get(entryBundlePath({ index: b, width }))!, width)) sink = hashLeaf(entry);
  }
  return elapsedNs(start);
}

// ---- durable append ----

interface DurableRun {
  ns: number;
  groups: number[];
  bytes: Uint8Array[];
}

/** `clients` appenders, each appending and waiting for `durable` before its next append, until `total` entries. */
async function durableRun(dir: string, total: number, clients: number): Promise<DurableRun> {
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock: { now: () => BENCH_NOW } });
  const groups = new Map<Promise<void>, number>();
  const bytes: Uint8Array[] = [];
  let issued = 0;
  const client = async (): Promise<void> => {
    while (issued < total) {
      const i = issued++;
      const a = log.append('decision', bodyAt(i));
      groups.set(a.durable, (groups.get(a.durable) ?? 0) + 1);
      await a.durable;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: clients }, client));
  const ns = elapsedNs(start);
  await log.close();
  const file = readFileSync(join(dir, 'entries'));
  for (let at = 0; at < file.length; at += 4 + file.readUInt32BE(at)) bytes.push(file.subarray(at + 4, at + 4 + file.readUInt32BE(at)));
  return { ns, groups: [...groups.values()], bytes };
}

/** The same frames written with writeSync + fdatasync in the same group sizes. Returns ns. */
function rawGroupWrites(path: string, run: DurableRun): number {
  const fd = openSync(path, 'a');
  try {
    let next = 0;
    const start = process.hrtime.bigint();
    for (const size of run.groups) {
      const group = run.bytes.slice(next, next + size);
      next += size;
      const buf = Buffer.allocUnsafe(group.reduce((s, e) => s + 4 + e.length, 0));
      let at = 0;
      for (const e of group) {
        buf.writeUInt32BE(e.length, at);
        buf.set(e, at + 4);
        at += 4 + e.length;
      }
      writeSync(fd, buf);
      fdatasyncSync(fd);
    }
    return elapsedNs(start);
  } finally {
    closeSync(fd);
  }
}

async function durableFigures(preset: Preset, log: Log): Promise<Figure[]> {
  const total = preset.name === 'full' ? 200_000 : 50_000;
  const clients = 1000;
  const runs = 3;
  log(`receipt-log: durable append, sync, ${clients} concurrent appenders, ${total} entries × ${runs} runs (disk under ${tmpdir()})`);
  const m = { rate: [] as number[], fsyncs: [] as number[], rawRate: [] as number[], rawFsyncs: [] as number[], groups: [] as number[] };
  for (let r = 0; r < runs; r++) {
    const dir = await mkdtemp(join(tmpdir(), 'tai-bench-log-'));
    try {
      const run = await durableRun(dir, total, clients);
      const raw = rawGroupWrites(join(dir, 'raw'), run);
      m.rate.push(perSecond(total, run.ns));
      m.fsyncs.push(perSecond(run.groups.length, run.ns));
      m.rawRate.push(perSecond(total, raw));
      m.rawFsyncs.push(perSecond(run.groups.length, raw));
      m.groups.push(total / run.groups.length);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  const note = `median of ${runs} runs; ${clients} appenders each awaiting durable before the next append; mean group ${Math.round(median(m.groups))} entries (one write + one fdatasync each); ext4 under ${tmpdir()}`;
  const common = { scenario: 'receipt-log', tenants: 10_000 };
  return [
    figureOf({ ...common, name: 'durable append: ReceiptLog sync, 1000 appenders', value: median(m.rate), unit: 'entries/s', samples: m.rate, note,
      baseline: { name: 'writeSync + fdatasync of the same frames in the same groups', value: median(m.rawRate) } }),
    figureOf({ ...common, name: 'durable append: fsyncs/s', value: median(m.fsyncs), unit: 'fsyncs/s', samples: m.fsyncs,
      baseline: { name: 'writeSync + fdatasync of the same frames in the same groups', value: median(m.rawFsyncs) } }),
  ];
}

// ---- consume with receipt ----

function consumeFigure(preset: Preset, log: Log): Figure {
  const compiler = new PolicyCompiler();
  const { skus, tenants, quotas } = population(10_000);
  const snapshot = compiler.apply({ upsert: [...skus, ...tenants, ...quotas] }, BENCH_NOW);
  const governor = new Governor({ policy: new CompiledPolicy(compiler), clock: { now: () => BENCH_NOW } });
  const names = [...snapshot.tenants.values()].filter((t) => !t.suspended && t.quotas['api-calls']?.kind === 'counter').map((t) => t.name);
  // A quarter of the in-process ops: each op with a receipt costs tens of µs today (see docs/performance.md).
  const ops = preset.decisionOps / 4;
  const plan = { runs: preset.decisionRuns, warmupRuns: preset.warmupRuns };
  log(`receipt-log: consume with receipt, ${plan.runs} runs × ${ops} ops`);
  let chain = new ReceiptChain();
  const withReceipt = (): number => {
    chain = new ReceiptChain();
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) {
      const d = governor.consume({ tenant: names[i % names.length]!, metric: 'api-calls', amount: 1 });
      sink = chain.append('decision', decisionReceiptBody(d), T0_MICROS + i);
    }
    return elapsedNs(start) / ops;
  };
  const bare = (): number => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < ops; i++) sink = governor.consume({ tenant: names[i % names.length]!, metric: 'api-calls', amount: 1 });
    return elapsedNs(start) / ops;
  };
  const runs = pairedRuns(withReceipt, bare, plan);
  return figureOf({
    scenario: 'receipt-log', name: 'consume with receipt (consume + body + append)', tenants: 10_000, value: median(runs.subject), unit: 'ns/op',
    baseline: { name: 'bare Governor.consume', value: median(runs.baseline) },
    target: { op: '<=', value: 5000, unit: 'ns/op', source: 'design §10: consume with receipt ≤ 5 µs median' },
    samples: runs.subject, note: `median of ${plan.runs} runs × ${ops} ops after ${plan.warmupRuns} warm-up runs; in memory (no disk: see durable append)`,
  });
}

/** All receipt-log figures, printed as each group is measured. */
export async function receiptLogScenario(preset: Preset, log: Log, print: (fs: readonly Figure[]) => void): Promise<void> {
  print([appendFigure(preset, log)]);
  print([await verifyFigure(preset, log)]);
  print([await workersVerifyFigure(preset, log)]);
  print(await durableFigures(preset, log));
  print([consumeFigure(preset, log)]);
  if (sink === undefined) throw new Error('receipt-log: no work was done');
}
