// Issue 17 through fake-gcs-server and the real client: the logs anchored under one bucket prefix are listed
// (--all-origins) and verified and reported as one deployment, and `tai serve --succeeds previous` finds the
// latest `{log}` origin anchored before its own.
import test from 'ava';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifecycleBody, type PredecessorInput } from '../receipts/index.ts';
import { Anchorer, GcsBucket } from '../receipts/anchor/index.ts';
import { predecessorOf } from '../cli/serve-succession.ts';
import { fixtureEntry, fixtureLog, runTai, type FixtureLog } from './support/log-fixture.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';

let gcs: Gcs;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-deployment-gcs-')), { backend: 'memory' });
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

/** A fixture log of `size` entries anchored in `bucket` under PREFIX/<origin>/; entry 0 may name a predecessor. */
async function anchoredLog(o: { bucket: string; seed: number; origin: string; size: number; predecessor?: PredecessorInput }): Promise<FixtureLog> {
  const log = await fixtureLog({ seed: o.seed, origin: o.origin });
  await log.grow(o.size, (i) => (i === 0 ? { kind: 'lifecycle', body: lifecycleBody({ event: 'start', version: '0.1.0', predecessor: o.predecessor }) } : fixtureEntry(i))).publish();
  const bucket = new GcsBucket(gcs.storage({ retryOptions: { autoRetry: false } }), `gs://${o.bucket}/prod/${o.origin}`);
  await (await Anchorer.open({ logDir: log.logDir, bucket, now: Date.now })).anchorOnce();
  return log;
}

const RUN = 'test.tai.dev/run';

test('every origin under a prefix, verified and reported as one deployment; --succeeds previous finds the one before', async (t) => {
  await gcs.storage().createBucket('deploy');
  const first = await anchoredLog({ bucket: 'deploy', seed: 1, origin: `${RUN}/20270115T080000Z-0000000a`, size: 300 });
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const previous = predecessorOf({ succeeds: 'previous', gcs: 'gs://deploy/prod', 'gcs-endpoint': gcs.url, origin: `${RUN}/{log}` }, io)!;
  t.is(await previous(`${RUN}/20270115T070000Z-00000001`), undefined, 'no earlier log: it succeeds none');
  const found = await previous(`${RUN}/20270115T090000Z-0000000b`);
  t.like(found, { origin: first.origin, size: 300 });
  const second = await anchoredLog({ bucket: 'deploy', seed: 2, origin: `${RUN}/20270115T090000Z-0000000b`, size: 50, predecessor: found! });
  t.like(await previous(`${RUN}/20270115T100000Z-0000000c`), { origin: second.origin, size: 50 }, 'the latest earlier one, not the first');
  const keys = join(await mkdtemp(join(tmpdir(), 'tai-keys-')), 'replicas.pub');
  await writeFile(keys, `${first.verifierKey}\n${second.verifierKey}\n`);

  const r = await runTai(['log', 'verify', 'gs://deploy/prod', '--all-origins', '--vkey', keys, '--gcs-endpoint', gcs.url]);
  t.is(r.code, 0, r.err.join('\n'));
  t.regex(r.out.join('\n'), /deployment: 2 logs, 2 verified; 1 succession recorded/);
  t.regex(r.out.join('\n'), new RegExp(`✓ ${second.origin.replace(/[./]/g, '\\$&')}: 50 entries, .*\\(gs://deploy/prod/${second.origin.replace(/[./]/g, '\\$&')}\\); succeeds ${first.origin.replace(/[./]/g, '\\$&')} at 300`));
  const alone = await runTai(['log', 'verify', `gs://deploy/prod/${second.origin}`, 'gs://deploy/prod/test.tai.dev/none', '--vkey', keys, '--gcs-endpoint', gcs.url]);
  t.is(alone.code, 1);
  t.regex(alone.err.join('\n'), /not among the logs given: a log of the deployment is missing/);

  const report = await runTai(['audit', 'report', '--from', 'gs://deploy/prod', '--all-origins', '--vkey', keys, '--gcs-endpoint', gcs.url, '--json']);
  t.is(report.code, 0, report.err.join('\n'));
  const json = JSON.parse(report.out.join('\n')) as { coverage: { size: number }; anchors: { origin: string }[]; deployment: { logs: { origin: string }[] } };
  t.is(json.coverage.size, 350);
  t.deepEqual(json.deployment.logs.map((l) => l.origin), [first.origin, second.origin]);
  t.deepEqual([...new Set(json.anchors.map((a) => a.origin))], [first.origin, second.origin], "each log's anchors checked and listed");
});

test('--all-origins under a prefix with no log is a finding', async (t) => {
  await gcs.storage().createBucket('empty');
  const r = await runTai(['log', 'verify', 'gs://empty/prod', '--all-origins', '--vkey', 'x', '--gcs-endpoint', gcs.url]);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /gs:\/\/empty\/prod: no log is anchored under it/);
});
