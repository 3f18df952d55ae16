// Issue 15, defect 3: a restart must never rewrite published history. After a publish, damage to the entries
// file that a checkpoint covers (cut bytes, a flipped byte, a dropped frame) makes the real server refuse to
// start, leaving every file as it was; damage past what any checkpoint covers is trimmed as before.
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { appendFile, mkdtemp, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ReceiptLog } from '../receipts/store/index.ts';
import { decisionBody, encodeReceipt, parseCheckpoint, parseNote, parseSignerKey, ReceiptChain, RECEIPT_VERSION, signCheckpoint } from '../receipts/index.ts';
import { folderFeed } from '../server/index.ts';
import { startServer, type RunningServer } from '../server/index.ts';
import { publishedHeads } from '../server/index.ts';
import { loadRunState } from '../receipts/store/index.ts';
import { main } from './tai.ts';

interface Served {
  root: string;
  logDir: string;
  entries: string;
  lines: string[];
}

function serve(s: Served): Promise<RunningServer> {
  return startServer({
    feed: folderFeed('config/samples'),
    listen: { host: '127.0.0.1', port: 0 },
    logDir: s.logDir,
    keyPath: join(s.root, 'signing.key'),
    origin: 'tai.test/recovery',
    stateEvery: 10_000,
    durability: 'sync',
    auth: { mode: 'none' },
    clock: { now: () => Date.now() },
    io: { out: (l) => s.lines.push(l), err: (l) => s.lines.push(l) },
  });
}

async function consume(url: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 1 }) });
    if (res.status !== 200) throw new Error(`consume: ${res.status} ${await res.text()}`);
  }
}

/** A log served, filled with decisions and stopped cleanly: everything in it is published (and state.json saved). */
async function published(t: ExecutionContext, decisions = 30): Promise<Served> {
  const root = await mkdtemp(join(tmpdir(), 'tai-recovery-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const s: Served = { root, logDir: join(root, 'log'), entries: join(root, 'log', 'entries'), lines: [] };
  const server = await serve(s);
  await consume(server.url, decisions);
  await server.stop();
  return s;
}

/** Every file under `dir`, by path, with its bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    files.set(relative(dir, path), (await readFile(path)).toString('base64'));
  }
  return files;
}

/** Start offsets of the entries file's frames. */
async function frameOffsets(path: string): Promise<number[]> {
  const bytes = await readFile(path);
  const offsets: number[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4 + bytes.readUInt32BE(at)) offsets.push(at);
  return offsets;
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = bytes[offset]! ^ 0x01;
  await writeFile(path, bytes);
}

async function checkpointSize(logDir: string): Promise<number> {
  return parseCheckpoint(parseNote(await readFile(join(logDir, 'checkpoint'))).text).size;
}

/** Starting refuses with a message naming `index` and what to do; no file under the log folder changed. */
async function refuses(t: ExecutionContext, s: Served, index: number): Promise<void> {
  const before = await snapshot(s.root);
  const error = await t.throwsAsync(serve(s));
  t.regex(error.message, new RegExp(`\\bentry ${index}\\b`), 'names the first differing entry');
  t.regex(error.message, /restore/i, 'says what an operator can do');
  t.notRegex(error.message, /delete|remove state/i);
  t.deepEqual(await snapshot(s.root), before, 'every file is left byte-identical');
}

test('cutting 40 bytes from the published entries file: start refuses, naming the torn entry', async (t) => {
  const s = await published(t);
  const size = await checkpointSize(s.logDir);
  const offsets = await frameOffsets(s.entries);
  t.is(offsets.length, size, 'every entry is published');
  await truncate(s.entries, (await stat(s.entries)).size - 40);
  const torn = (await frameOffsets(s.entries)).length - 1; // the frame the cut ends in
  await refuses(t, s, Math.min(torn, size - 1));
});

for (const stateJson of [true, false]) {
  const label = stateJson ? 'with state.json' : 'without state.json';
  test(`a byte flipped in the last published frame (${label}): start refuses, naming it`, async (t) => {
    const s = await published(t);
    const offsets = await frameOffsets(s.entries);
    if (!stateJson) await rm(join(s.logDir, 'state.json'));
    await flipByte(s.entries, offsets.at(-1)! + 4 + 12);
    await refuses(t, s, offsets.length - 1);
  });

  test(`a byte flipped mid-file in published entries (${label}): start refuses, naming it`, async (t) => {
    const s = await published(t);
    const offsets = await frameOffsets(s.entries);
    const index = Math.floor(offsets.length / 2);
    if (!stateJson) await rm(join(s.logDir, 'state.json'));
    await flipByte(s.entries, offsets[index]! + 4 + 12);
    await refuses(t, s, index);
  });
}

test('dropping the last published frame: start refuses, naming the missing entry', async (t) => {
  const s = await published(t);
  const offsets = await frameOffsets(s.entries);
  await truncate(s.entries, offsets.at(-1)!);
  await refuses(t, s, offsets.length - 1);
});

test('after a clean stop, state.json holds the digest of the entries file, so the next start hashes none of its entries', async (t) => {
  const s = await published(t);
  const state = await loadRunState(join(s.logDir, 'state.json'));
  const bytes = await readFile(s.entries);
  t.is(state?.log.offset, bytes.length);
  t.is(state?.log.digest, createHash('sha256').update(bytes).digest('hex'));
  const heads = await publishedHeads({ logDir: s.logDir, anchor: undefined, origin: 'tai.test/recovery', verifierKey: '', io: { out: () => undefined, err: (l) => t.fail(l) } });
  t.is(heads[0]?.size, state?.log.size, 'the local checkpoint is at the resume point');
  const log = await ReceiptLog.open({ dir: s.logDir, durability: 'sync', clock: { now: () => Date.now() }, resume: state?.log, published: heads });
  await log.close();
  t.like(log.recovery, { resumedAt: state?.log.size, hashedFrames: 0 });
});

test('damage past the checkpoint is trimmed and the server starts, continuing the published log', async (t) => {
  const s = await published(t);
  const size = await checkpointSize(s.logDir);
  // Entries no checkpoint covers (a crash before the publish), the last one torn.
  const log = await ReceiptLog.open({ dir: s.logDir, durability: 'sync', clock: { now: () => Date.now() } });
  const body = decisionBody({ tenant: 'initech', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 1, limit: 1 });
  await Promise.all([log.append('decision', body), log.append('decision', body)].map((a) => a.durable));
  await log.close();
  await truncate(s.entries, (await stat(s.entries)).size - 5);
  await appendFile(s.entries, Buffer.from([0, 0]));
  const server = await serve(s);
  await server.stop();
  t.true(s.lines.some((l) => /bytes of an unfinished write cut off/.test(l)), s.lines.join('\n'));
  const r = await runTai(['log', 'verify', s.logDir]);
  t.is(r.code, 0, r.err);
  t.true((await checkpointSize(s.logDir)) > size);
});

async function runTai(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

test('tai log verify DIR checks the entries file against the tiles and names the first differing entry', async (t) => {
  const s = await published(t);
  t.is((await runTai(['log', 'verify', s.logDir])).code, 0);
  const offsets = await frameOffsets(s.entries);
  const index = Math.floor(offsets.length / 3);
  await flipByte(s.entries, offsets[index]! + 4 + 12);
  const r = await runTai(['log', 'verify', s.logDir]);
  t.is(r.code, 1, r.out);
  t.regex(r.err, new RegExp(`entry ${index}\\b.*entries`));
});

test('tai log verify DIR: published entries missing from the entries file are a finding', async (t) => {
  const s = await published(t);
  const offsets = await frameOffsets(s.entries);
  await truncate(s.entries, offsets.at(-1)!);
  const r = await runTai(['log', 'verify', s.logDir]);
  t.is(r.code, 1, r.out);
  t.regex(r.err, new RegExp(`entry ${offsets.length - 1}\\b`));
});

/** Re-signs LOG/checkpoint with this log's key as (size, root). */
async function resign(s: Served, size: number, root: Uint8Array): Promise<void> {
  const signer = parseSignerKey((await readFile(join(s.root, 'signing.key'), 'utf8')).trim());
  await writeFile(join(s.logDir, 'checkpoint'), signCheckpoint({ origin: 'tai.test/recovery', size, root }, signer));
}

test('a checkpoint signing the root of a few more entries than its size (issue 15 defect 1) is honoured where the file holds that root; any other root refuses', async (t) => {
  const s = await published(t);
  const size = await checkpointSize(s.logDir);
  t.is((await frameOffsets(s.entries)).length, size);
  const cp = parseCheckpoint(parseNote(await readFile(join(s.logDir, 'checkpoint'))).text);
  await resign(s, size - 2, cp.root); // the root of `size` entries, signed as size − 2
  const server = await serve(s);
  await server.stop();
  t.true(s.lines.some((l) => l.includes(`names ${size - 2} entries but signs the root of the first ${size}`)), s.lines.join('\n'));
  await resign(s, size - 2, new Uint8Array(32).fill(7));
  const error = await t.throwsAsync(serve(s));
  t.regex(error.message, /do not reproduce that root, though each matches the level-0 tiles/);
});

test('a bad entry past the checkpoint with more after it refuses cleanly, naming it, and changes nothing', async (t) => {
  const s = await published(t);
  const size = await checkpointSize(s.logDir);
  const log = await ReceiptLog.open({ dir: s.logDir, durability: 'sync', clock: { now: () => Date.now() } });
  const body = decisionBody({ tenant: 'initech', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: 1, limit: 1 });
  await Promise.all([log.append('decision', body), log.append('decision', body), log.append('decision', body)].map((a) => a.durable));
  await log.close();
  const offsets = await frameOffsets(s.entries);
  await flipByte(s.entries, offsets[size]! + 4 + 12);
  const before = await snapshot(s.root);
  const error = await t.throwsAsync(serve(s));
  t.is(error.name, 'EntryFileRefusal');
  t.regex(error.message, new RegExp(`entry ${size}\\b.*Restore`));
  t.deepEqual(await snapshot(s.root), before);
});

test('after a refusal, tai log rebuild-entries DIR makes the entry file again from the published tiles, and the server starts on it', async (t) => {
  const s = await published(t);
  const offsets = await frameOffsets(s.entries);
  const good = await readFile(s.entries);
  await flipByte(s.entries, offsets[Math.floor(offsets.length / 2)]! + 4 + 12);
  await t.throwsAsync(serve(s));
  const r = await runTai(['log', 'rebuild-entries', s.logDir]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, new RegExp(`wrote the ${offsets.length} published entries`));
  t.deepEqual(await readFile(join(s.logDir, 'entries.rebuilt')), good, 'byte for byte the entry file before the damage');
  t.is((await runTai(['log', 'rebuild-entries', s.logDir])).code, 2, 'never replaces a file');
  await rename(s.entries, join(s.logDir, 'entries.damaged'));
  await rename(join(s.logDir, 'entries.rebuilt'), s.entries);
  const server = await serve(s);
  await server.stop();
  t.is((await runTai(['log', 'verify', s.logDir])).code, 0);
});

test('a log written before the entry limit (an entry over 65 535 bytes past the checkpoint) refuses naming the entry and the byte to cut at; cut there, the server starts', async (t) => {
  const s = await published(t);
  const log = await ReceiptLog.open({ dir: s.logDir, durability: 'sync', clock: { now: () => Date.now() } });
  const chain = new ReceiptChain((await log.captureResumePoint()).chain);
  await log.close();
  // What TAI 506cf6e appended for a 70 KB reconcile receipt, then the next entry chained on it.
  const index = chain.size;
  const big = encodeReceipt({ v: RECEIPT_VERSION, kind: 'reconcile', index, time: Date.now() * 1000, prev: chain.head, body: { resource: 'Tenant/initech', generation: 2, patch: { features: { big: 'y'.repeat(70_000) } } } });
  chain.replay(big);
  const next = chain.append('lifecycle', { event: 'stop', version: '0.1.0' }, Date.now() * 1000).bytes;
  const at = (await stat(s.entries)).size;
  const framed = (b: Uint8Array): Buffer => Buffer.concat([Buffer.from([b.length >>> 24, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff]), b]);
  await appendFile(s.entries, Buffer.concat([framed(big), framed(next)]));
  const before = await snapshot(s.root);
  const error = await t.throwsAsync(serve(s));
  t.is(error.name, 'EntryFileRefusal');
  t.true(error.message.includes(`entry ${index} at byte ${at} is ${big.length} bytes, over the 65535-byte entry limit`), error.message);
  t.true(error.message.includes(`truncate -s ${at} ${s.entries}`), error.message);
  t.deepEqual(await snapshot(s.root), before, 'changes nothing');
  const verified = await runTai(['log', 'verify', s.logDir]);
  t.is(verified.code, 1, 'tai log verify reports it too');
  t.true(verified.out.includes(`cut the file at byte ${at}`) || verified.err.includes(`cut the file at byte ${at}`), verified.out + verified.err);
  await truncate(s.entries, at);
  const server = await serve(s);
  await server.stop();
  t.is((await runTai(['log', 'verify', s.logDir])).code, 0);
});

test('tai log verify DIR counts a zero-filled tail as an unfinished write, not as entries', async (t) => {
  const s = await published(t);
  await appendFile(s.entries, Buffer.alloc(42));
  const r = await runTai(['log', 'verify', s.logDir]);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /42 bytes of an unfinished write at the end/);
  t.notRegex(r.out, /not yet published/);
  const server = await serve(s);
  await server.stop();
  t.true(s.lines.some((l) => l.includes('ended in 42 zero bytes')), s.lines.join('\n'));
});
