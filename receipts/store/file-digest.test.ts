// The resume point's digest of the entries file (docs/receipts.md §7): what ReceiptLog records, and what a start
// over an unchanged prefix skips.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootFromLeafHashes } from '../compact-range.ts';
import { PublishedHistoryError, type PublishedHead, type ReadLeafTile } from './entry-audit.ts';
import { FaultyFs, SYNC_FAULTS, WRITE_FAULTS } from './faulty-fs.test-helper.ts';
import { ReceiptLog, StaleResumeError, type ResumePoint } from './receipt-log.ts';

const clock = { now: () => Date.parse('2026-12-02T12:00:00Z') };
const body = (i: number) => ({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: i, allowed: true, reason: 'Allowed' });

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function prefixDigest(dir: string, offset: number): Promise<string> {
  return sha256((await readFile(join(dir, 'entries'))).subarray(0, offset));
}

/** A log of `n` entries with a resume point taken at `at`: the point, every leaf hash, and the level-0 tiles. */
async function logWithPoint(n: number, at: number): Promise<{ dir: string; point: ResumePoint; leaves: Uint8Array[]; leafTile: ReadLeafTile }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-digest-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const appended = Array.from({ length: at }, (_, i) => log.append('decision', body(i)));
  const point = await log.captureResumePoint();
  for (let i = at; i < n; i++) appended.push(log.append('decision', body(i)));
  await log.close();
  const leaves = appended.map((a) => a.leafHash);
  const leafTile: ReadLeafTile = (k, width) => Promise.resolve(Buffer.concat(leaves.slice(k * 256, k * 256 + width)));
  return { dir, point, leaves, leafTile };
}

const head = (leaves: Uint8Array[], size: number, source = 'checkpoint'): PublishedHead => ({ source, size, root: rootFromLeafHashes(leaves.slice(0, size)) });

async function reopen(dir: string, o: { resume?: ResumePoint; published: PublishedHead[]; leafTile?: ReadLeafTile }): Promise<ReceiptLog['recovery'] & { size: number }> {
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock, ...o });
  await log.close();
  return { ...log.recovery, size: log.size };
}

test('a resume point carries the SHA-256 of the file up to its offset, however it is captured', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-digest-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const points: Promise<ResumePoint>[] = [log.captureResumePoint()]; // empty and durable
  for (let group = 0; group < 4; group++) {
    for (let i = 0; i < 5; i++) log.append('decision', body(group * 5 + i));
    points.push(log.captureResumePoint()); // not yet written
    if (group % 2 === 1) await log.flush();
    points.push(log.captureResumePoint()); // durable, or still waiting
  }
  const resolved = await Promise.all(points);
  await log.close();
  for (const p of resolved) t.is(p.digest, await prefixDigest(dir, p.offset), `the point at ${p.size}`);
});

for (const fault of [...WRITE_FAULTS, ...SYNC_FAULTS]) {
  test(`after a failed write (${fault}) rewritten from memory, the digest takes each durable byte once`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'tai-digest-'));
    const fs = new FaultyFs({ fault, at: 2 });
    const log = await ReceiptLog.open({ dir, durability: 'sync', clock, fs, retry: { firstMs: 3_600_000, maxMs: 3_600_000 } });
    await log.append('decision', body(0)).durable;
    const failed = [log.append('decision', body(1)), log.append('decision', body(2))];
    await Promise.all(failed.map((a) => a.durable.catch(() => undefined)));
    t.is(fs.injected, 1);
    await log.flush();
    log.append('decision', body(3));
    const point = await log.captureResumePoint();
    await log.close();
    t.is(point.size, 4);
    t.is(point.digest, await prefixDigest(dir, point.offset));
  });
}

test('a restart whose prefix matches the digest hashes only the entries after the resume point', async (t) => {
  const { dir, point, leaves } = await logWithPoint(300, 280);
  const recovery = await reopen(dir, { resume: point, published: [head(leaves, 280), { source: 'anchor.json', size: 200, root: undefined }, head(leaves, 300, 'gs://b/checkpoint')] });
  t.like(recovery, { size: 300, resumedAt: 280, hashedFrames: 20 });
});

test('without a digest (state.json of an older TAI), with a signed head older than the resume point, or without any signed head: the whole file is hashed', async (t) => {
  const { dir, point, leaves } = await logWithPoint(300, 280);
  const { digest: _, ...old } = point;
  t.like(await reopen(dir, { resume: old, published: [head(leaves, 300)] }), { size: 300, resumedAt: 280, hashedFrames: 300 });
  t.like(await reopen(dir, { resume: point, published: [head(leaves, 270), head(leaves, 300)] }), { size: 300, resumedAt: 280, hashedFrames: 300 });
  t.like(await reopen(dir, { resume: point, published: [{ source: 'anchor.json', size: 290, root: undefined }] }), { size: 300, resumedAt: 280, hashedFrames: 290 });
});

test('a byte flipped before the resume point is still refused and names its entry; restored, the file starts fast again', async (t) => {
  const { dir, point, leaves, leafTile } = await logWithPoint(300, 280);
  const path = join(dir, 'entries');
  const good = await readFile(path);
  const bad = Buffer.from(good);
  bad[point.offset - 10] = bad[point.offset - 10]! ^ 1; // inside entry 279
  await writeFile(path, bad);
  const error = await t.throwsAsync(reopen(dir, { resume: point, published: [head(leaves, 280)], leafTile }), { instanceOf: PublishedHistoryError });
  t.is(error.index, 279);
  t.deepEqual(await readFile(path), bad, 'nothing was changed');
  await writeFile(path, good);
  t.like(await reopen(dir, { resume: point, published: [head(leaves, 280)], leafTile }), { hashedFrames: 0 });
});

test('state.json damaged beside a matching digest (its tree, its chain head) is not trusted: the full scan finds it stale', async (t) => {
  const { dir, point, leaves } = await logWithPoint(300, 280);
  const published = [head(leaves, 280)];
  const tree = { ...point.chain.tree, hashes: point.chain.tree.hashes.map((h, i) => (i === 0 ? `${h.slice(0, -1)}${h.endsWith('0') ? '1' : '0'}` : h)) };
  await t.throwsAsync(reopen(dir, { resume: { ...point, chain: { ...point.chain, tree } }, published }), { instanceOf: StaleResumeError });
  await t.throwsAsync(reopen(dir, { resume: { ...point, chain: { ...point.chain, head: point.chain.tree.hashes[0]! } }, published }), { instanceOf: StaleResumeError });
  await t.throwsAsync(reopen(dir, { resume: { ...point, lastOffset: point.lastOffset - 1 }, published }), { instanceOf: StaleResumeError });
});

test('after a fast start, a start from an older state.json and one without a resume point, the next digest is of the file as it is', async (t) => {
  const { dir, point, leaves } = await logWithPoint(300, 280);
  const { digest: _, ...old } = point;
  for (const resume of [point, old, undefined]) {
    const log = await ReceiptLog.open({ dir, durability: 'sync', clock, resume, published: [head(leaves, 300)] });
    log.append('decision', body(1000));
    const next = await log.captureResumePoint();
    const root = log.root();
    await log.close();
    t.is(next.digest, await prefixDigest(dir, next.offset));
    t.like(await reopen(dir, { resume: next, published: [{ source: 'checkpoint', size: next.size, root }] }), { resumedAt: next.size, hashedFrames: 0 });
  }
});
