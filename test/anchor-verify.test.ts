// `tai log verify gs://…` and `tai log verify DIR --anchored-against gs://…` against fake-gcs-server through
// the real client: a log anchored at several sizes verifies with every per-size checkpoint proven a prefix; an
// object rewritten in the bucket, a rolled-back checkpoint, a mislabelled one and a split view are each named.
import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureEntry, fixtureLog, runTai, type FixtureLog } from './support/log-fixture.ts';
import { decisionBody, tileRefPath, tilesChanged } from '../receipts/index.ts';
import { Anchorer, GcsBucket } from '../receipts/anchor/index.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-anchor-verify-gcs-')), { backend: 'memory' });
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

const PREFIX = 'logs/replica-0';

/** A fixture log anchored in a new bucket after growing to each of `sizes`; the bucket's URL and raw client. */
async function anchored(name: string, sizes: number[]): Promise<{ log: FixtureLog; url: string; object: (path: string) => ReturnType<ReturnType<ReturnType<Gcs['storage']>['bucket']>['file']> }> {
  const storage = gcs.storage({ retryOptions: { autoRetry: false } });
  await storage.createBucket(name);
  const url = `gs://${name}/${PREFIX}`;
  const log = await fixtureLog();
  const anchorer = await Anchorer.open({ logDir: log.logDir, bucket: new GcsBucket(storage, url), now: Date.now });
  for (const size of sizes) {
    await log.grow(size).publish();
    await anchorer.anchorOnce();
  }
  return { log, url, object: (path) => storage.bucket(name).file(`${PREFIX}/${path}`) };
}

const verify = (location: string, log: FixtureLog, ...flags: string[]) => runTai(['log', 'verify', location, '--vkey', log.verifierKey, '--gcs-endpoint', gcs.url, ...flags]);

test('a log anchored at several sizes verifies from the bucket, every per-size checkpoint proven a prefix', async (t) => {
  const { log, url } = await anchored('verify-good', [1, 300, 513, 1000]);
  const r = await verify(url, log);
  t.is(r.code, 0, r.err.join('\n'));
  t.regex(r.out[0]!, /gs:\/\/verify-good\/logs\/replica-0: 1000 entries verified/);
  t.regex(r.out.join('\n'), /4 signed checkpoints, each proven a prefix of this log \(4 consistency proofs\)/);
  const json = JSON.parse((await verify(url, log, '--json')).out.join('\n')) as { ok: boolean; anchors: { checkpoints: number; anchoredSize: number; lagEntries: number } };
  t.like(json, { ok: true, anchors: { checkpoints: 4, anchoredSize: 1000, lagEntries: 0 } });
});

test('a local log verifies against its anchors, and says how far it is past them', async (t) => {
  const { log, url } = await anchored('verify-against', [200, 700]);
  await log.grow(900).publish();
  const r = await verify(log.logDir, log, '--anchored-against', url);
  t.is(r.code, 0, r.err.join('\n'));
  t.regex(r.out.join('\n'), /3 signed checkpoints, each proven a prefix of this log/, 'checkpoints/200, checkpoints/700 and the latest');
  t.regex(r.out.join('\n'), /anchored 700 of 900 entries \(200 not yet anchored\)/);
});

test('an entry bundle rewritten in the bucket: verify names the entry and the object', async (t) => {
  const { log, url, object } = await anchored('verify-rewrite', [600]);
  const bundle = tileRefPath(tilesChanged(0, 600).find((ref) => tileRefPath(ref).startsWith('tile/entries/'))!);
  await object(bundle).save(Buffer.from('rewritten'), { resumable: false });
  const r = await verify(url, log);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), new RegExp(`entry 0: entry bundle unreadable.*\\(${bundle.replace(/[/.]/g, '\\$&')}\\)`));
});

test('the latest checkpoint rolled back to an older one: verify names the rollback', async (t) => {
  const { log, url, object } = await anchored('verify-rollback', [256, 800]);
  const [old] = await object('checkpoints/256').download();
  await object('checkpoint').save(old, { resumable: false });
  const r = await verify(url, log);
  t.is(r.code, 1);
  t.regex(r.err[0]!, /gs:\/\/verify-rollback\/logs\/replica-0\/checkpoints\/800: rollback: checkpoints\/800 anchored 800 entries, but checkpoint signs only 256/);
});

test('a local log that lost anchored entries is a rollback against its bucket', async (t) => {
  const { url } = await anchored('verify-lost', [300, 600]);
  const behind = (await fixtureLog()).grow(300); // the same key and entries, but only the first 300
  await behind.publish();
  const r = await verify(behind.logDir, behind, '--anchored-against', url);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /checkpoints\/600: rollback: checkpoints\/600 anchored 600 entries, but the local checkpoint signs only 300/);
});

test('a checkpoint stored under another size is named as rewritten', async (t) => {
  const { log, url, object } = await anchored('verify-label', [300, 600]);
  const [bytes] = await object('checkpoints/300').download();
  await object('checkpoints/400').save(bytes, { resumable: false });
  const r = await verify(url, log);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /checkpoints\/400: named for size 400 but signs size 300: rewritten/);
});

test('a split view: a checkpoint signed by the same key for a fork of the log is named, from the bucket and against it', async (t) => {
  const { log, url, object } = await anchored('verify-split', [300, 900]);
  // The same key and the first 400 entries, then different ones: a second history shown to someone else.
  const fork = (await fixtureLog()).grow(700, (i) => (i < 400 ? fixtureEntry(i) : { kind: 'decision', body: decisionBody({ tenant: 'mallory', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: i, limit: 1000 }) }));
  await object('checkpoints/700').save(Buffer.from(await fork.publish()), { resumable: false });
  for (const r of [await verify(url, log), await verify(log.logDir, log, '--anchored-against', url)]) {
    t.is(r.code, 1);
    t.regex(r.err.join('\n'), /checkpoints\/700: split view: checkpoints\/700 signs root [0-9a-f]{64} for 700 entries, but the first 700 entries of the log at size 900 give [0-9a-f]{64}/);
  }
});

test('usage: --anchored-against wants gs://, and a bucket log wants a pinned key', async (t) => {
  const log = (await fixtureLog()).grow(3);
  await log.publish();
  t.is((await runTai(['log', 'verify', log.logDir, '--anchored-against', '/tmp/x'])).code, 2);
  const noKey = await runTai(['log', 'verify', 'gs://some-bucket/p', '--gcs-endpoint', gcs.url]);
  t.is(noKey.code, 2);
  t.regex(noKey.err[0]!, /--vkey is required for a log at gs:\/\/some-bucket\/p/);
  t.is((await runTai(['log', 'verify', 'gs://Bad_Bucket', '--vkey', log.verifierKey])).code, 2);
});

test('a bucket that cannot be reached is a finding naming what could not be read, not a crash', async (t) => {
  const log = (await fixtureLog()).grow(3);
  const r = await runTai(['log', 'verify', 'gs://unreachable/logs', '--vkey', log.verifierKey, '--gcs-endpoint', 'http://127.0.0.1:1']);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /cannot read gs:\/\/unreachable\/logs\/checkpoint: .*ECONNREFUSED/);
});

test('the audit report lists the anchors it checked, from the bucket or against it, and refuses a split view', async (t) => {
  const { log, url, object } = await anchored('audit-anchors', [300, 900]);
  // From the bucket, its latest checkpoint is the log itself; against it, the bucket's latest is one more anchor.
  const cases = [
    { args: ['--from', url], sizes: [300, 900] },
    { args: ['--from', log.logDir, '--anchored-against', url], sizes: [300, 900, 900] },
  ];
  for (const { args, sizes } of cases) {
    const r = await runTai(['audit', 'report', ...args, '--vkey', log.verifierKey, '--gcs-endpoint', gcs.url, '--json']);
    t.is(r.code, 0, r.err.join('\n'));
    const anchors = (JSON.parse(r.out.join('\n')) as { anchors: { size: number; storedAt?: string; lagSeconds?: number }[] }).anchors;
    t.deepEqual(anchors.map((a) => a.size), sizes);
    t.true(anchors.every((a) => a.storedAt !== undefined && typeof a.lagSeconds === 'number'));
  }
  const fork = (await fixtureLog()).grow(700, (i) => (i < 400 ? fixtureEntry(i) : { kind: 'decision', body: decisionBody({ tenant: 'mallory', op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: i, limit: 1000 }) }));
  await object('checkpoints/700').save(Buffer.from(await fork.publish()), { resumable: false });
  const split = await runTai(['audit', 'report', '--from', url, '--vkey', log.verifierKey, '--gcs-endpoint', gcs.url, '--json']);
  t.is(split.code, 1);
  t.regex(split.err.join('\n'), /checkpoints\/700: split view/);
});
