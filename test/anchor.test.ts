// The receipt log anchored in a bucket through the real @google-cloud/storage client, against fake-gcs-server:
// tiles, bundles and per-size checkpoints land as immutable objects; a second writer of the same log gets 412
// and both stay correct; an object rewritten under the log is a named conflict; an emulator outage loses
// nothing and the backlog drains once it is back.
import test from 'ava';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixtureLog } from './support/log-fixture.ts';
import { tileRefPath, tilesChanged } from '../receipts/index.ts';
import { Anchorer, GcsBucket } from '../receipts/anchor/index.ts';
import { gcsDown, gcsStop, gcsUp, type Gcs } from './support/gcs.ts';

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-anchor-gcs-')), { backend: 'filesystem' });
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

async function bucketNamed(name: string): Promise<GcsBucket> {
  const storage = gcs.storage({ retryOptions: { autoRetry: false } });
  await storage.createBucket(name);
  return new GcsBucket(storage, `gs://${name}/logs/replica-0`);
}

const now = () => Date.now();

test.serial('a log anchors: every tile and bundle, the per-size checkpoint and the latest, byte for byte', async (t) => {
  const bucket = await bucketNamed('anchor-basic');
  const log = (await fixtureLog()).grow(700);
  await log.publish();
  const anchorer = await Anchorer.open({ logDir: log.logDir, bucket, now });
  const first = await anchorer.anchorOnce();
  t.is(first.size, 700);
  for (const ref of tilesChanged(0, 700)) {
    t.deepEqual(Buffer.from((await bucket.get(tileRefPath(ref)))!), await readFile(join(log.logDir, tileRefPath(ref))), tileRefPath(ref));
  }
  const checkpoint = await readFile(join(log.logDir, 'checkpoint'));
  t.deepEqual(Buffer.from((await bucket.get('checkpoints/700'))!), checkpoint);
  t.deepEqual(Buffer.from((await bucket.get('checkpoint'))!), checkpoint);
  t.is(first.uploaded, tilesChanged(0, 700).length + 1);
  // Growing uploads only what changed; the anchored size survives a restart of the anchorer.
  await log.grow(1000).publish();
  const reopened = await Anchorer.open({ logDir: log.logDir, bucket, now });
  t.is(reopened.status().anchoredSize, 700);
  t.like(await reopened.anchorOnce(), { size: 1000, uploaded: tilesChanged(700, 1000).length + 1 });
  t.truthy(await bucket.get('checkpoints/700'), 'older per-size checkpoints stay');
  t.like(reopened.status(), { anchoredSize: 1000, localSize: 1000, behindSince: undefined });
});

test.serial('a second writer racing for the same objects gets 412 on each, and both end correct', async (t) => {
  const bucket = await bucketNamed('anchor-race');
  const log = (await fixtureLog()).grow(600);
  await log.publish();
  const [a, b] = await Promise.all([
    Anchorer.open({ logDir: log.logDir, bucket, now, statePath: join(log.dir, 'a.json') }),
    Anchorer.open({ logDir: log.logDir, bucket, now, statePath: join(log.dir, 'b.json') }),
  ]);
  const [ra, rb] = await Promise.all([a.anchorOnce(), b.anchorOnce()]);
  t.is(ra.uploaded + rb.uploaded, tilesChanged(0, 600).length + 1, 'each object created exactly once');
  t.like(a.status(), { anchoredSize: 600, conflict: undefined });
  t.like(b.status(), { anchoredSize: 600, conflict: undefined });
});

test.serial('an object rewritten under the log is a conflict that names it, and nothing is overwritten', async (t) => {
  const storage = gcs.storage({ retryOptions: { autoRetry: false } });
  const bucket = await bucketNamed('anchor-rewrite');
  const log = (await fixtureLog()).grow(300);
  await log.publish();
  const victim = tileRefPath(tilesChanged(0, 300)[0]!);
  await storage.bucket('anchor-rewrite').file(`logs/replica-0/${victim}`).save(Buffer.from('forged'), { resumable: false });
  const anchorer = await Anchorer.open({ logDir: log.logDir, bucket, now });
  const error = await t.throwsAsync(anchorer.anchorOnce());
  t.regex(error!.message, new RegExp(`gs://anchor-rewrite/logs/replica-0/${victim.replace(/[/.]/g, '\\$&')} already holds different bytes`));
  t.is(Buffer.from((await bucket.get(victim))!).toString(), 'forged');
  t.is(await bucket.get('checkpoint'), undefined, 'no checkpoint names a log the bucket does not hold');
});

test.serial('the emulator stopped mid-run: nothing is lost, and the backlog drains once it is back', async (t) => {
  const bucket = await bucketNamed('anchor-outage');
  const log = (await fixtureLog()).grow(400);
  await log.publish();
  const anchorer = await Anchorer.open({ logDir: log.logDir, bucket, now, intervalMs: 50, backoff: { initialMs: 50, maxMs: 200 } });
  await anchorer.anchorOnce();
  await gcsStop(gcs);
  await log.grow(1500).publish();
  await t.throwsAsync(anchorer.anchorOnce());
  t.like(anchorer.status(), { anchoredSize: 400, localSize: 1500 });
  t.truthy(anchorer.status().behindSince);
  gcs = await gcsUp(gcs.dir);
  anchorer.start();
  const deadline = Date.now() + 30_000;
  while (anchorer.status().anchoredSize < 1500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await anchorer.stop();
  t.like(anchorer.status(), { anchoredSize: 1500, behindSince: undefined, failingSince: undefined });
  for (const ref of tilesChanged(0, 1500)) t.truthy(await bucket.get(tileRefPath(ref)), tileRefPath(ref));
  t.truthy(await bucket.get('checkpoints/400'));
  t.truthy(await bucket.get('checkpoints/1500'));
});

test.serial('with retention, every immutable object is created under a Locked retention; the moving checkpoint is not', async (t) => {
  const storage = gcs.storage({ retryOptions: { autoRetry: false } });
  await storage.createBucket('anchor-retention');
  const at = Date.parse('2026-11-23T12:00:00Z');
  const bucket = new GcsBucket(storage, 'gs://anchor-retention/logs', { days: 2555, now: () => at });
  const log = (await fixtureLog()).grow(300);
  await log.publish();
  await (await Anchorer.open({ logDir: log.logDir, bucket, now })).anchorOnce();
  const retentionOf = async (name: string) => (await storage.bucket('anchor-retention').file(`logs/${name}`).getMetadata())[0].retention;
  for (const name of ['checkpoints/300', tileRefPath(tilesChanged(0, 300)[0]!)]) {
    const retention = await retentionOf(name);
    t.is(retention?.mode, 'Locked', name);
    t.is(Date.parse(String(retention?.retainUntilTime)), at + 2555 * 86_400_000, name);
  }
  t.falsy(await retentionOf('checkpoint'));
});
