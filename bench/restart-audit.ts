/**
 * What the start-up audit of the entries file (issue 15: a restart never rewrites published history) adds to a
 * restart: a log of N decisions (default 1 000 000) is written through ReceiptLog and published by LogPublisher as
 * `tai serve` does; then a clean restart (resume point at N, the signed checkpoint at N) is timed with the audit
 * and beside its parts: reading the file alone (I/O floor, page cache warm) and hashing the frames alone. The
 * resume point carries the digest of the file up to it (docs/receipts.md §7), so the clean restart hashes the
 * prefix once and no entry; the full audit (a state.json without digest, or one that does not match) is timed too.
 *
 *   node bench/restart-audit.ts [N]
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionBody, generateNoteKey, hashLeaf, parseCheckpoint, parseNote } from '../receipts/index.ts';
import { auditEntryFile, auditFrames, hashPrefix, LogPublisher, ReceiptLog, type ResumePoint } from '../receipts/store/index.ts';
import { median } from './measure.ts';

const N = Number(process.argv[2] ?? 1_000_000);
const RUNS = 5;
const clock = { now: () => Date.parse('2026-12-01T00:00:00Z') };

/** A consume decision as the decision API writes it (~250 bytes encoded). */
const body = (i: number) =>
  decisionBody({ tenant: `tenant-${String(i % 10_000).padStart(7, '0')}`, op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 1 + (i % 100_000), limit: 1_000_000, idempotencyKey: i % 8 === 0 ? `req-${i}` : undefined });

async function build(dir: string): Promise<ResumePoint> {
  const { signerKey } = generateNoteKey('bench.tai.dev/restart-audit');
  const publisher = new LogPublisher({ dir, origin: 'bench.tai.dev/restart-audit', signer: signerKey as never });
  const log = await ReceiptLog.open({ dir, durability: 'async', asyncDelayMs: 1, clock, onDurable: (e) => publisher.add(e) });
  for (let i = 0; i < N; i += 10_000) {
    for (let j = i; j < Math.min(N, i + 10_000); j++) log.append('decision', body(j));
    await log.flush();
    if (i % 100_000 === 0) await publisher.publish();
  }
  await publisher.publish();
  const point = await log.captureResumePoint();
  await log.close();
  return point;
}

/** Median wall and CPU (user + system) milliseconds of RUNS runs: CPU time holds up on a machine shared with other work. */
async function time(work: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const start = performance.now();
    const used = process.cpuUsage();
    await work();
    const { user, system } = process.cpuUsage(used);
    wall.push(performance.now() - start);
    cpu.push((user + system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const ms = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(0).padStart(6)} ms wall ${t.cpu.toFixed(0).padStart(6)} ms CPU`;

const dir = await mkdtemp(join(tmpdir(), 'tai-restart-audit-'));
try {
  const built = performance.now();
  const resume = await build(dir);
  const cp = parseCheckpoint(parseNote(await readFile(join(dir, 'checkpoint'))).text);
  console.log(`built ${N} entries (${(resume.offset / 1e6).toFixed(0)} MB) in ${((performance.now() - built) / 1000).toFixed(1)} s; checkpoint size ${cp.size}`);
  const path = join(dir, 'entries');
  const heads = [{ source: 'checkpoint', size: cp.size, root: cp.root }];
  const leafTile = () => Promise.resolve(undefined);
  const read = await time(() => readFile(path));
  const frames = await time(async () => {
    for await (const f of auditFrames(path)) if (f.bytes === undefined) throw new Error('torn');
  });
  const hashing = await time(async () => {
    for await (const f of auditFrames(path)) hashLeaf(f.bytes!);
  });
  const audit = await time(() => auditEntryFile(path, { heads, resume, leafTile }));
  const { digest: _, ...oldResume } = resume;
  const openFull = await time(async () => (await ReceiptLog.open({ dir, durability: 'sync', clock, resume: oldResume, published: heads })).close());
  const prefix = await time(() => hashPrefix(path, resume.offset));
  const prefixDigest = (await hashPrefix(path, resume.offset))?.digest('hex');
  if (prefixDigest !== resume.digest) throw new Error('the resume point has no digest, or another one');
  const fast = await time(() => auditEntryFile(path, { heads, resume, leafTile, prefixDigest }));
  const open = await time(async () => (await ReceiptLog.open({ dir, durability: 'sync', clock, resume, published: heads })).close());
  console.log(`median of ${RUNS}, page cache warm, load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores:`);
  console.log(`  readFile of the whole entries file (I/O floor)      ${ms(read)}`);
  console.log(`  frames streamed, nothing else                       ${ms(frames)}`);
  console.log(`  frames streamed + hashLeaf each                     ${ms(hashing)}`);
  console.log(`  the full audit (+ CompactRange, roots at the heads) ${ms(audit)}`);
  console.log(`  ReceiptLog.open, state.json without digest          ${ms(openFull)}   (full audit + prefix digest)`);
  console.log(`  SHA-256 of the file up to the resume point          ${ms(prefix)}`);
  console.log(`  the audit once the prefix digest matched            ${ms(fast)}`);
  console.log(`  ReceiptLog.open, clean restart (digest + resume)    ${ms(open)}   <- what a start gains`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
