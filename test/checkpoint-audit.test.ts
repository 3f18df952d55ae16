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
/** The two runs load this long together (a checkpoint a second), and at most this many decisions per connection. */
const LOAD_MS = 8_000;
const MAX_PER_WORKER = 2_000;

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-checkpoint-audit-gcs-')), { backend: 'memory' });
  await gcs.storage().createBucket('tai-audit');
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

/** Polls GET /log/checkpoint until `done` (or the server is gone), keeping every distinct note served. */
async function collectCheckpoints(url: string, done: () => boolean): Promise<Uint8Array[]> {
  const seen = new Map<string, Uint8Array>();
  while (!done()) {
    const res = await fetch(`${url}/log/checkpoint`).catch(() => undefined); // the server was killed
    if (res === undefined) break;
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

interface LoadResult {
  /** Decisions answered 200 with a receipt. */
  answered: number;
  /** Requests that got any other answer (none while the server lives). */
  failed: number;
  /** Requests that got no answer at all (the server was killed). */
  unanswered: number;
}

/** Consumes from `WORKERS` connections until `until()` says stop (bounded by MAX_PER_WORKER each). */
async function load(url: string, run: string, until: () => boolean): Promise<LoadResult> {
  const r: LoadResult = { answered: 0, failed: 0, unanswered: 0 };
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; i < MAX_PER_WORKER && !until(); i++) {
      const res = await post(`${url}/v1/consume`, { tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: `${run}-w${w}-${i}` }).catch(() => undefined);
      if (res === undefined) return void r.unanswered++;
      if (res.receipt) r.answered++;
      else r.failed++;
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
  return r;
}

const serveArgs = (dir: string) => ['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(dir, 'log'), '--key', join(dir, 'signing.key'), '--origin', ORIGIN, '--gcs', 'gs://tai-audit/prod', '--gcs-endpoint', gcs.url, '--anchor-interval', '1'];

// Two runs of one log: the first is killed with SIGKILL in the middle of its load, the second restarts on the
// same folder. Every checkpoint either served is checked against the tiles of its size and proven a prefix of the
// next, across the restart: a restart that rewrote what the first run published would fail x/mod's proofs.
test('every checkpoint served and anchored under load, across a kill -9 and a restart, is the root of its size and a prefix of the next, by x/mod sumdb/tlog', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-checkpoint-audit-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  const first = await startServe(serveArgs(dir));
  let killed = false;
  const polledFirst = collectCheckpoints(first.url, () => killed);
  const firstLoad = load(first.url, 'first', () => killed);
  await new Promise((r) => setTimeout(r, LOAD_MS / 2));
  first.child.kill('SIGKILL');
  await first.exited;
  killed = true;
  const one = await firstLoad;
  t.is(one.failed, 0, 'the first run answered every request it answered with a receipt');

  const s = await startServe(serveArgs(dir));
  try {
    let loading = true;
    const polled = collectCheckpoints(s.url, () => !loading);
    const end = Date.now() + LOAD_MS / 2;
    const two = await load(s.url, 'second', () => Date.now() >= end);
    t.deepEqual(two, { answered: two.answered, failed: 0, unanswered: 0 }, 'every decision was answered with a receipt');
    await new Promise((r) => setTimeout(r, 1500)); // the checkpoint that covers the last decisions
    loading = false;
    const served = [...(await polledFirst), ...(await polled)];
    t.true(served.length >= 3, `only ${served.length} distinct checkpoints were served`);
    const vkey = (await readFile(join(dir, 'signing.key.pub'), 'utf8')).trim();

    const overHttp = await tlogVerify({ vkey, log: `${s.url}/log`, checkpoints: served, entries: true });
    t.is(overHttp.checkpoints, served.length);
    t.is(overHttp.consistencyProofs, served.length - 1, 'every served checkpoint, before and after the kill, is a prefix of the next');

    t.true(await eventually(async () => ((await getJson(`${s.url}/readyz`)).anchor as { lagEntries: number }).lagEntries === 0, 30_000), 'the bucket catches up');
    const bucket = await mirrorBucket(`prod/${ORIGIN}/`);
    t.true(bucket.checkpoints.length >= 2, `only ${bucket.checkpoints.length} anchored checkpoints`);
    const anchored = await tlogVerify({ vkey, log: bucket.dir, checkpoints: bucket.checkpoints, entries: true });
    t.is(anchored.checkpoints, bucket.checkpoints.length);

    await stopServe(s);
    // The folder keeps every tile of the last 10 minutes' checkpoints: served and anchored ones are proven together.
    const all = [...served, ...bucket.checkpoints, await readFile(join(dir, 'log', 'checkpoint'))];
    const local = await tlogVerify({ vkey, log: join(dir, 'log'), checkpoints: all, entries: true });
    t.is(local.checkpoints, all.length);
    t.true(local.size >= one.answered + two.answered);
    t.log(
      `x/mod sumdb/tlog verified ${served.length} served and ${bucket.checkpoints.length} anchored checkpoints (${local.size} entries) ` +
        `after ${one.answered} + ${two.answered} decisions from ${WORKERS} connections, the first run killed with SIGKILL (${one.unanswered} requests unanswered)`,
    );
  } finally {
    await stopServe(s);
  }
});
