// `tai serve --gcs` end to end: the real server anchors its log in fake-gcs-server through the real client;
// /readyz and /metrics show the lag; SIGTERM's last pass leaves the bucket holding the whole log, which
// `tai log verify gs://…` accepts; a restart that lost its log folder refuses to anchor a second history.
import test from 'ava';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTai } from './support/log-fixture.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';
import { eventually, getJson, post, startServe, stopServe } from './support/served.ts';

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-serve-gcs-')), { backend: 'memory' });
  await gcs.storage().createBucket('tai-anchors');
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

const ORIGIN = 'tai.dev/embedded/gcs-test';
const LOCATION = `gs://tai-anchors/prod/${ORIGIN}`;

async function serve(dir: string) {
  return startServe(['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(dir, 'log'), '--key', join(dir, 'signing.key'), '--origin', ORIGIN, '--gcs', 'gs://tai-anchors/prod', '--gcs-endpoint', gcs.url, '--anchor-interval', '1']);
}

test.serial('serve --gcs anchors the log; lag in /readyz and /metrics; after SIGTERM the bucket verifies as the whole log', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-serve-gcs-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  const s = await serve(dir);
  t.true(s.stdout.some((l) => l.includes(`anchoring the log to ${LOCATION} every 1 s`)), s.stdout.join('\n'));
  for (let i = 0; i < 50; i++) await post(`${s.url}/v1/consume`, { tenant: 'acme', metric: 'api-calls', amount: 1 });
  t.true(await eventually(async () => ((await getJson(`${s.url}/readyz`)).anchor as { lagEntries: number }).lagEntries === 0), 'the bucket catches up');
  const ready = (await getJson(`${s.url}/readyz`)).anchor as Record<string, unknown>;
  t.like(ready, { location: LOCATION, lagEntries: 0, lagSeconds: 0 });
  t.true((ready.anchoredSize as number) > 50);
  const metrics = await (await fetch(`${s.url}/metrics`)).text();
  t.regex(metrics, /^tai_anchor_lag_entries 0$/m);
  t.regex(metrics, /^tai_anchor_failing 0$/m);
  await stopServe(s);
  const local = await runTai(['log', 'verify', join(dir, 'log'), '--vkey', `${join(dir, 'signing.key')}.pub`, '--json']);
  const bucket = await runTai(['log', 'verify', LOCATION, '--vkey', `${join(dir, 'signing.key')}.pub`, '--gcs-endpoint', gcs.url, '--json']);
  t.is(bucket.code, 0, bucket.err.join('\n'));
  const sizeOf = (r: { out: string[] }) => (JSON.parse(r.out.join('\n')) as { checkpoint: { size: number; root: string } }).checkpoint;
  t.deepEqual(sizeOf(bucket), sizeOf(local), 'the last pass on SIGTERM anchored the stop receipt too');
  const against = await runTai(['log', 'verify', join(dir, 'log'), '--vkey', `${join(dir, 'signing.key')}.pub`, '--anchored-against', LOCATION, '--gcs-endpoint', gcs.url]);
  t.is(against.code, 0, against.err.join('\n'));
  t.regex(against.out.join('\n'), /\(0 not yet anchored\)/);

  // The disk is lost (Cloud Run, an emptyDir): a new log with the same origin and key must not anchor over the old one.
  await rm(join(dir, 'log'), { recursive: true });
  const restarted = await serve(dir).then(
    () => t.fail('started over its own anchors'),
    (e: unknown) => (e as Error).message,
  );
  t.regex(String(restarted), new RegExp(`${LOCATION.replace(/[/.]/g, '\\$&')} anchors \\d+ entries of this log, but the local log holds 0: the log folder was lost or replaced`));
});

test('serve refuses --gcs-endpoint or --anchor-interval without --gcs, and a malformed bucket URL', async (t) => {
  for (const args of [['--gcs-endpoint', 'http://127.0.0.1:1'], ['--anchor-interval', '5'], ['--gcs', 'gs://A_B'], ['--gcs', 'gs://ok-bucket', '--gcs-endpoint', 'ftp://x'], ['--gcs', 'gs://ok-bucket', '--anchor-interval', '0']]) {
    const r = await runTai(['serve', '--from', 'config/samples', ...args]);
    t.is(r.code, 2, args.join(' '));
  }
});
