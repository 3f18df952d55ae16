// Issue 15, defect 3 with --gcs: the recovered entries must also reproduce the last anchored checkpoint. When the
// local checkpoint and anchor.json are gone (a restore of an older copy of the folder), the bucket's checkpoint
// still forbids trimming or rewriting what it covers: the real server (in process) refuses, leaving every file.
import test from 'ava';
import { mkdtemp, readdir, readFile, rename, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { folderFeed } from '../server/embedded-feed.ts';
import { runTai } from './support/log-fixture.ts';
import { startServer } from '../server/governor-server.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-recovery-gcs-')), { backend: 'memory' });
  await gcs.storage().createBucket('tai-anchors');
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

const ORIGIN = 'tai.test/recovery-gcs';

function serve(root: string, lines: string[]) {
  return startServer({
    feed: folderFeed('config/samples'),
    listen: { host: '127.0.0.1', port: 0 },
    logDir: join(root, 'log'),
    keyPath: join(root, 'signing.key'),
    origin: ORIGIN,
    stateEvery: 10_000,
    durability: 'sync',
    auth: { mode: 'none' },
    anchor: { url: 'gs://tai-anchors/prod', endpoint: gcs.url, intervalMs: 1000, retentionDays: undefined },
    clock: { now: () => Date.now() },
    io: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
  });
}

async function snapshot(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) files.set(relative(dir, join(e.parentPath, e.name)), (await readFile(join(e.parentPath, e.name))).toString('base64'));
  }
  return files;
}

test('a torn entry the bucket anchors refuses to start even without the local checkpoint, and nothing is trimmed', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tai-recovery-gcs-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  const lines: string[] = [];
  const server = await serve(root, lines);
  for (let i = 0; i < 20; i++) {
    await fetch(`${server.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount: 1 }) });
  }
  await server.stop(); // the last anchoring pass anchors every entry
  t.true(lines.some((l) => /tai: anchored \d+ entries/.test(l)), lines.join('\n'));
  const logDir = join(root, 'log');
  const entries = join(logDir, 'entries');
  const bytes = await readFile(entries);
  let frames = 0;
  for (let at = 0; at < bytes.length; at += 4 + bytes.readUInt32BE(at)) frames++;
  await rm(join(logDir, 'checkpoint'));
  await rm(join(logDir, 'anchor.json'));
  await rm(join(logDir, 'state.json'));
  await truncate(entries, (await stat(entries)).size - 40);
  const before = await snapshot(root);
  const error = await t.throwsAsync(serve(root, lines));
  t.regex(error.message, new RegExp(`already published in gs://tai-anchors/prod/${ORIGIN}/checkpoint`));
  t.regex(error.message, new RegExp(`entry ${frames - 1} is torn`));
  t.deepEqual(await snapshot(root), before, 'the torn frame the bucket anchors is not cut off');

  // What docs/deploy.md tells the operator: rebuild the entry file from the bucket, put it in place, start.
  const rebuilt = await runTai(['log', 'rebuild-entries', logDir, '--from', `gs://tai-anchors/prod/${ORIGIN}`, '--gcs-endpoint', gcs.url]);
  t.is(rebuilt.code, 0, rebuilt.err.join('\n'));
  t.deepEqual(await readFile(join(logDir, 'entries.rebuilt')), bytes, 'the bucket held every entry byte for byte');
  await rename(entries, join(logDir, 'entries.damaged'));
  await rename(join(logDir, 'entries.rebuilt'), entries);
  const restarted = await serve(root, lines);
  await restarted.stop();
  const verified = await runTai(['log', 'verify', `gs://tai-anchors/prod/${ORIGIN}`, '--vkey', join(root, 'signing.key.pub'), '--gcs-endpoint', gcs.url]);
  t.is(verified.code, 0, verified.err.join('\n'));
});
