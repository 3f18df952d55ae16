// The GCS emulator the anchoring tests use (fake-gcs-server from hack/gcs-up.sh), driven by the real
// @google-cloud/storage client: create-only writes (ifGenerationMatch 0) and their 412, compare-and-swap on a
// generation, reads, prefix listings; then the emulator killed mid-run (uploads fail with a connection error) and
// restarted on the same port, where the filesystem backend still has what was written before.
import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiError } from '@google-cloud/storage';
import { gcsDown, gcsPid, gcsStop, gcsUp, type Gcs, type GcsBackend } from './support/gcs.ts';

const started = new Set<string>();

async function emulator(backend: GcsBackend): Promise<Gcs> {
  const dir = await mkdtemp(join(tmpdir(), `tai-gcs-${backend}-`));
  started.add(dir);
  return gcsUp(dir, { backend });
}

test.after.always(async () => {
  for (const dir of started) await gcsDown(dir, true);
});

const createOnly = { preconditionOpts: { ifGenerationMatch: 0 } };
const statusOf = async (p: Promise<unknown>): Promise<number | string | undefined> => {
  try {
    await p;
    return 'no error';
  } catch (e) {
    return (e as ApiError).code;
  }
};

test('create-only writes, 412 on the second, compare-and-swap on the generation, reads and prefix listings', async (t) => {
  const gcs = await emulator('memory');
  t.regex(gcs.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  t.is(gcs.url, `http://127.0.0.1:${gcs.port}`);
  const [bucket] = await gcs.storage().createBucket('tai-anchors');
  const head = bucket.file('anchors/tenant-a/head.json');

  // resumable: false because fake-gcs-server's resumable uploads store the upload request's Content-Type
  // (application/octet-stream) instead of the metadata's contentType; real GCS keeps the metadata's.
  await head.save('{"seq":1}', { ...createOnly, contentType: 'application/json', resumable: false });
  t.is(await statusOf(head.save('{"seq":2}', createOnly)), 412, 'a second create-only write (resumable upload)');
  t.is(await statusOf(head.save('{"seq":2}', { ...createOnly, resumable: false })), 412, 'and a simple one');
  t.is(String((await head.download())[0]), '{"seq":1}', 'the first write stands');

  const [meta] = await head.getMetadata();
  const generation = Number(meta.generation);
  t.true(generation > 0);
  t.is(meta.contentType, 'application/json');
  await head.save('{"seq":2}', { preconditionOpts: { ifGenerationMatch: generation } });
  t.is(await statusOf(head.save('{"seq":3}', { preconditionOpts: { ifGenerationMatch: generation } })), 412, 'a stale generation loses');
  t.is(String((await head.download())[0]), '{"seq":2}');
  t.not(Number((await head.getMetadata())[0].generation), generation);

  for (const name of ['anchors/tenant-a/0001.json', 'anchors/tenant-b/0001.json', 'other/x']) await bucket.file(name).save('{}', createOnly);
  const [files] = await bucket.getFiles({ prefix: 'anchors/tenant-a/' });
  t.deepEqual(files.map((f) => f.name).sort(), ['anchors/tenant-a/0001.json', 'anchors/tenant-a/head.json']);
  t.false((await bucket.file('anchors/tenant-c/head.json').exists())[0]);
});

test('the emulator killed mid-run: uploads fail to connect; restarted on the same port, the filesystem backend kept the objects', async (t) => {
  const gcs = await emulator('filesystem');
  t.is(gcs.backend, 'filesystem');
  // No retries: a create-only upload is "conditionally idempotent" and would otherwise back off for seconds.
  const client = gcs.storage({ retryOptions: { autoRetry: false } });
  const [bucket] = await client.createBucket('tai-outage');
  await bucket.file('before.json').save('{"n":1}', createOnly);
  const pid = await gcsPid(gcs);
  t.truthy(pid);
  t.is((await gcsUp(gcs.dir)).url, gcs.url, 'gcsUp on a running emulator reuses it');
  t.is(await gcsPid(gcs), pid, 'and does not restart it');

  await gcsStop(gcs);
  t.is(await gcsPid(gcs), undefined);
  // A pooled keep-alive socket (the pool is shared between clients) is reset; a new connection is refused.
  const connectionErrors = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE'];
  t.true(connectionErrors.includes(String(await statusOf(bucket.file('during.json').save('{}', createOnly)))));
  const fresh = gcs.storage({ retryOptions: { autoRetry: false } }).bucket('tai-outage');
  t.true(connectionErrors.includes(String(await statusOf(fresh.file('during.json').save('{}', { ...createOnly, resumable: false })))));

  const again = await gcsUp(gcs.dir); // no backend given: the saved one (filesystem) is kept
  t.is(again.port, gcs.port, 'the same port, so clients pointed at it keep working');
  t.is(again.backend, 'filesystem');
  t.not(await gcsPid(again), pid);
  t.is(String((await bucket.file('before.json').download())[0]), '{"n":1}', 'the object written before the outage is still there');
  t.false((await bucket.file('during.json').exists())[0], 'nothing was written during the outage');
  t.is(await statusOf(bucket.file('before.json').save('{"n":2}', createOnly)), 412, 'create-only still holds after the restart');
  await bucket.file('after.json').save('{"n":3}', createOnly);
  t.deepEqual((await bucket.getFiles())[0].map((f) => f.name).sort(), ['after.json', 'before.json']);
});
