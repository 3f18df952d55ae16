// Checkpoint audit under load (issue 15.1): a real `tai serve --gcs` takes concurrent decisions while every
// checkpoint it serves at /log/checkpoint is collected; then Go's golang.org/x/mod sumdb/tlog — not our verifier —
// checks each one against the tiles of its size (over HTTP, in the folder after stop) and each against the next,
// and does the same for every `checkpoints/<size>` object anchored in fake-gcs-server. Before the fix, 30–60 % of
// them signed the root of a larger tree ("downloaded inconsistent tile").
import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';
import { eventually, getJson, post, startServe, stopServe } from './support/served.ts';
import { tlogVerify } from './support/tlog-verify.ts';

const ORIGIN = 'tai.dev/embedded/checkpoint-audit';
const WORKERS = 8;
/** The load runs this long (a checkpoint a second), and at most this many decisions per connection. */
const LOAD_MS = 6_000;
const MAX_PER_WORKER = 2_000;

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-checkpoint-audit-gcs-')), { backend: 'memory' });
  await gcs.storage().createBucket('tai-audit');
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

/** Polls GET /log/checkpoint until `done`, keeping every distinct note served. */
async function collectCheckpoints(url: string, done: () => boolean): Promise<Uint8Array[]> {
  const seen = new Map<string, Uint8Array>();
  while (!done()) {
    const res = await fetch(`${url}/log/checkpoint`);
    const note = new Uint8Array(await res.arrayBuffer());
    if (res.ok) seen.set(Buffer.from(note).toString('base64'), note);
    await new Promise((r) => setTimeout(r, 5));
  }
  return [...seen.values()];
}

/** Copies every object under `prefix` into a folder, as an auditor would mirror the bucket. */
async function mirrorBucket(prefix: string): Promise<{ dir: string; checkpoints: Uint8Array[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-checkpoint-audit-mirror-'));
  const [files] = await gcs.storage().bucket('tai-audit').getFiles({ prefix });
  const checkpoints: Uint8Array[] = [];
  for (const file of files) {
    const [bytes] = await file.download();
    const path = join(dir, file.name.slice(prefix.length));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, bytes);
    if (file.name.slice(prefix.length).startsWith('checkpoints/')) checkpoints.push(bytes);
  }
  return { dir, checkpoints };
}

test('every checkpoint served and anchored under load is the root of its size, by x/mod sumdb/tlog', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-checkpoint-audit-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  const key = join(dir, 'signing.key');
  const s = await startServe(['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(dir, 'log'), '--key', key, '--origin', ORIGIN, '--gcs', 'gs://tai-audit/prod', '--gcs-endpoint', gcs.url, '--anchor-interval', '1']);
  try {
    let loading = true;
    const polled = collectCheckpoints(s.url, () => !loading);
    const end = Date.now() + LOAD_MS;
    let sent = 0;
    const worker = async (w: number): Promise<number> => {
      let answered = 0;
      for (let i = 0; i < MAX_PER_WORKER && Date.now() < end; i++, sent++) {
        const res = await post(`${s.url}/v1/consume`, { tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: `w${w}-${i}` });
        if (res.receipt) answered++;
      }
      return answered;
    };
    const answered = (await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)))).reduce((a, b) => a + b, 0);
    t.is(answered, sent, 'every decision was answered with a receipt');
    await new Promise((r) => setTimeout(r, 1500)); // the checkpoint that covers the last decisions
    loading = false;
    const served = await polled;
    t.true(served.length >= 3, `only ${served.length} distinct checkpoints were served`);
    const vkey = (await readFile(`${key}.pub`, 'utf8')).trim();

    const overHttp = await tlogVerify({ vkey, log: `${s.url}/log`, checkpoints: served, entries: true });
    t.is(overHttp.checkpoints, served.length);
    t.is(overHttp.consistencyProofs, served.length - 1, 'every served checkpoint is a prefix of the next');

    t.true(await eventually(async () => ((await getJson(`${s.url}/readyz`)).anchor as { lagEntries: number }).lagEntries === 0, 30_000), 'the bucket catches up');
    const bucket = await mirrorBucket(`prod/${ORIGIN}/`);
    t.true(bucket.checkpoints.length >= 2, `only ${bucket.checkpoints.length} anchored checkpoints`);
    const anchored = await tlogVerify({ vkey, log: bucket.dir, checkpoints: bucket.checkpoints, entries: true });
    t.is(anchored.checkpoints, bucket.checkpoints.length);

    await stopServe(s);
    const local = await tlogVerify({ vkey, log: join(dir, 'log'), checkpoints: [...served, await readFile(join(dir, 'log', 'checkpoint'))], entries: true });
    t.true(local.size >= overHttp.size);
    t.log(`x/mod sumdb/tlog verified ${served.length} served and ${bucket.checkpoints.length} anchored checkpoints (${local.size} entries) after ${answered} decisions from ${WORKERS} connections`);
  } finally {
    await stopServe(s);
  }
});
