// Issue 17: `tai audit report` over the logs of a deployment: each log verified, successions checked, counts
// added up, rows merged by time with their origin, and usage per counter the highest `used` any replica recorded.
import test from 'ava';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionBody, lifecycleBody, thresholdBody, toHex, type ReceiptBody, type ReceiptKind } from '../receipts/index.ts';
import { logFolderReader, readCheckpointFile } from '../receipts/client/index.ts';
import type { AuditReport } from './audit/index.ts';
import { fixtureLog, runTai, type FixtureLog } from '../test/support/log-fixture.ts';

const WINDOW = Date.UTC(2027, 0, 15);
type Entry = { kind: ReceiptKind; body: ReceiptBody };

/** A consume of 1 unit on the counter two replicas share: `used` is the shared counter after it. */
const consume = (used: number, allowed = true): Entry => ({
  kind: 'decision',
  body: decisionBody({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 1, allowed, reason: allowed ? 'Allowed' : 'QuotaExceeded', used, limit: 6, windowStart: WINDOW }),
});
const start = (predecessor?: { origin: string; size: number; root: string }): Entry => ({ kind: 'lifecycle', body: lifecycleBody({ event: 'start', version: '0.1.0', predecessor }) });

async function replica(seed: number, entries: Entry[]): Promise<FixtureLog> {
  const log = await fixtureLog({ seed, origin: `test.tai.dev/replica-${seed}` });
  await log.grow(entries.length, (i) => entries[i]!).publish();
  return log;
}

/** Two replicas sharing one counter (limit 6): a allowed the odd units, b the even ones and denied the seventh. */
async function replicas(): Promise<{ a: FixtureLog; b: FixtureLog }> {
  const a = await replica(1, [start(), consume(1), consume(3), consume(5)]);
  const threshold: Entry = { kind: 'threshold', body: thresholdBody({ tenant: 'acme', metric: 'api-calls', threshold: 80, percent: 83, used: 5, limit: 6, windowStart: WINDOW }) };
  const b = await replica(2, [start(), consume(2), consume(4), threshold, consume(6), consume(6, false)]);
  return { a, b };
}

async function report(args: string[]): Promise<AuditReport> {
  const r = await runTai(['audit', 'report', '--json', '--from', ...args]);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err.join('\n')}`);
  return JSON.parse(r.out.join('\n')) as AuditReport;
}

test('one report of two replicas: counts added up, rows by time with their origin, usage as the shared counter', async (t) => {
  const { a, b } = await replicas();
  const r = await report([a.logDir, b.logDir]);
  t.deepEqual(r.scope.locations, [a.logDir, b.logDir]);
  t.like(r.coverage, { origin: 'deployment of 2 logs', size: 10, root: '', range: { first: null, last: null, entries: 10 } });
  t.deepEqual(r.deployment!.logs.map((l) => [l.origin, l.size, l.location]), [[a.origin, 4, a.logDir], [b.origin, 6, b.logDir]]);
  t.like(r.decisions, { total: 7, allowed: 6, denied: 1 });
  t.deepEqual(r.decisions.byTenant, [{ key: 'acme', total: 7, allowed: 6, denied: 1 }]);
  t.regex(r.decisions.query, /^tai log query LOG --kind decision/);
  t.deepEqual(r.lifecycle.shown.map((l) => [l.origin, l.index]), [[a.origin, 0], [b.origin, 0]], 'both starts at the same time: by origin');
  t.deepEqual(r.thresholds.shown.map((x) => [x.origin, x.index]), [[b.origin, 3]]);
  t.deepEqual(r.deployment!.usage, [{ tenant: 'acme', metric: 'api-calls', windowStart: WINDOW, highestUsed: 6, limit: 6, origin: b.origin, consumes: 6, allowedAmount: 6 }]);
  t.true(r.samples.every((s) => s.origin === a.origin || s.origin === b.origin));
});

test('the HTML of a deployment lists its logs and usage per counter', async (t) => {
  const { a, b } = await replicas();
  const out = join(await mkdtemp(join(tmpdir(), 'tai-audit-deploy-')), 'r.html');
  const r = await runTai(['audit', 'report', '--from', a.logDir, b.logDir, '--out', out]);
  t.is(r.code, 0, r.err.join('\n'));
  const page = await readFile(out, 'utf8');
  t.regex(page, /Coverage and integrity: 2 logs/);
  t.regex(page, new RegExp(`<tr data-origin="${b.origin.replace(/[./]/g, '\\$&')}">`));
  t.regex(page, /<tr data-tenant="acme" data-metric="api-calls">.*<td class="num" data-count="used">6<\/td>.*6 <span class="ok">=<\/span>/);
  t.regex(page, /3 of test\.tai\.dev\/replica-2/);
});

test('a deployment with a successor whose predecessor is not given gets no report', async (t) => {
  const { a, b } = await replicas();
  const file = await readCheckpointFile(logFolderReader(b.logDir), { verifierKey: undefined });
  if (file === undefined || 'invalid' in file) throw new Error('no checkpoint');
  const c = await replica(3, [start({ origin: b.origin, size: file.checkpoint.size, root: toHex(file.checkpoint.root) }), consume(1)]);
  t.deepEqual((await report([a.logDir, b.logDir, c.logDir])).deployment!.logs.map((l) => l.predecessor?.origin), [undefined, undefined, b.origin]);
  const out = join(await mkdtemp(join(tmpdir(), 'tai-audit-deploy-')), 'r.html');
  const r = await runTai(['audit', 'report', '--from', a.logDir, c.logDir, '--out', out]);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /entry 0 records its predecessor test\.tai\.dev\/replica-2 at 6 entries .* not among the logs given/);
  t.regex(r.err.at(-1)!, /1 deployment finding: no report written/);
  t.is(await readFile(out, 'utf8').catch(() => 'none'), 'none');
});

test('--anchored-against is for one log', async (t) => {
  const { a, b } = await replicas();
  const r = await runTai(['audit', 'report', '--from', a.logDir, b.logDir, '--anchored-against', 'gs://bucket/prefix']);
  t.is(r.code, 2);
  t.regex(r.err.join('\n'), /--anchored-against is for one log/);
});
