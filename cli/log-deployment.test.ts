// Issue 17: `tai log verify` over the logs of one deployment. Each log verifies as alone; a log whose first entry
// names its predecessor must find that log among those given, holding the checkpoint recorded: a missing log
// and a rewritten one are findings, not only a damaged one. And `tai serve --succeeds` records it.
import test from 'ava';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lifecycleBody, toHex, type PredecessorInput } from '../receipts/index.ts';
import { logFolderReader, readCheckpointFile } from '../receipts/client/index.ts';
import { folderFeed, startServer } from '../server/index.ts';
import { fixtureEntry, fixtureLog, runTai, type FixtureLog } from '../test/support/log-fixture.ts';
import { predecessorOf } from './serve-succession.ts';

/** The published checkpoint of `log` as a successor records it. */
async function lastCheckpoint(log: FixtureLog): Promise<PredecessorInput> {
  const file = await readCheckpointFile(logFolderReader(log.logDir), { verifierKey: undefined });
  if (file === undefined || 'invalid' in file) throw new Error(`no checkpoint in ${log.logDir}`);
  return { origin: file.checkpoint.origin, size: file.checkpoint.size, root: toHex(file.checkpoint.root) };
}

/** A log of `size` entries whose first entry, a lifecycle start, names `predecessor`. */
async function successor(o: { seed: number; origin: string; size: number; predecessor: PredecessorInput }): Promise<FixtureLog> {
  const log = await fixtureLog({ seed: o.seed, origin: o.origin });
  await log.grow(o.size, (i) => (i === 0 ? { kind: 'lifecycle', body: lifecycleBody({ event: 'start', version: '0.1.0', predecessor: o.predecessor }) } : fixtureEntry(i))).publish();
  return log;
}

/** A chain of three logs: a, then b succeeding a at its 300 entries, then c succeeding b at its 120. */
async function chain(): Promise<{ a: FixtureLog; b: FixtureLog; c: FixtureLog }> {
  const a = await fixtureLog({ seed: 1, origin: 'test.tai.dev/a' });
  await a.grow(300).publish();
  const b = await successor({ seed: 2, origin: 'test.tai.dev/b', size: 120, predecessor: await lastCheckpoint(a) });
  const c = await successor({ seed: 3, origin: 'test.tai.dev/c', size: 40, predecessor: await lastCheckpoint(b) });
  return { a, b, c };
}

test('the logs of a deployment verify as one: each log, then each succession, in one summary', async (t) => {
  const { a, b, c } = await chain();
  const r = await runTai(['log', 'verify', a.logDir, b.logDir, c.logDir]);
  t.is(r.code, 0, r.err.join('\n'));
  const out = r.out.join('\n');
  t.regex(out, /deployment: 3 logs, 3 verified; 2 successions recorded/);
  t.regex(out, /✓ test\.tai\.dev\/b: 120 entries, root [0-9a-f]{16}… \(.*\); succeeds test\.tai\.dev\/a at 300/);
  t.regex(out, /✓ every log verified, every predecessor present and matching its recorded checkpoint/);
  const json = JSON.parse((await runTai(['log', 'verify', a.logDir, b.logDir, c.logDir, '--json'])).out.join('\n')) as { ok: boolean; logs: { location: string; predecessor?: { origin: string; size: number } }[] };
  t.true(json.ok);
  t.deepEqual(json.logs.map((l) => l.predecessor && [l.predecessor.origin, l.predecessor.size]), [undefined, ['test.tai.dev/a', 300], ['test.tai.dev/b', 120]]);
});

test('a predecessor missing from the logs given is a finding: the deployment lost a log', async (t) => {
  const { a, c } = await chain();
  const r = await runTai(['log', 'verify', a.logDir, c.logDir]);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /✗ .*: entry 0 records its predecessor test\.tai\.dev\/b at 120 entries \(root [0-9a-f]{64}\), which is not among the logs given: a log of the deployment is missing/);
  t.regex(r.err.at(-1)!, /0 of 2 logs failed verification; 1 deployment finding/);
});

test('a predecessor whose log does not hold the recorded checkpoint is a finding: rewritten, or cut short', async (t) => {
  const { a, b } = await chain();
  const rewritten = await fixtureLog({ seed: 1, origin: 'test.tai.dev/a' }); // the same name and key, another history
  await rewritten.grow(400, (i) => (i === 7 ? { kind: 'lifecycle', body: lifecycleBody({ event: 'stop', version: '0.1.0' }) } : fixtureEntry(i))).publish();
  const r = await runTai(['log', 'verify', rewritten.logDir, b.logDir]);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /entry 0 records its predecessor test\.tai\.dev\/a at 300 entries .*, but .* has root [0-9a-f]{64} at that size: the predecessor's log is not the one succeeded/);
  const short = await fixtureLog({ seed: 1, origin: 'test.tai.dev/a' });
  await short.grow(200).publish();
  const cut = await runTai(['log', 'verify', short.logDir, b.logDir]);
  t.is(cut.code, 1);
  t.regex(cut.err.join('\n'), /at 300 entries .*, but .* holds only 200 entries: the predecessor's log lost entries/);
  const twice = await runTai(['log', 'verify', a.logDir, a.logDir]);
  t.is(twice.code, 1);
  t.regex(twice.err.join('\n'), /origin test\.tai\.dev\/a is also the origin of .*: one log given twice, or two histories under one name/);
});

test('a damaged log among several fails the deployment, and the others are still checked', async (t) => {
  const { a, b } = await chain();
  const other = await fixtureLog({ seed: 4, origin: 'test.tai.dev/other' });
  await other.grow(10).publish();
  const r = await runTai(['log', 'verify', a.logDir, b.logDir, other.logDir, '--vkey', a.verifierKey]);
  t.is(r.code, 1, 'b and other are signed by other keys than the one pinned');
  t.regex(r.out.join('\n'), /✓ test\.tai\.dev\/a: 300 entries/);
  t.regex(r.out.join('\n'), /✗ \? \(.*\): checkpoint: not signed by the pinned key/);
  t.regex(r.err.at(-1)!, /2 of 3 logs failed verification; 0 deployment findings/);
});

test('--all-origins is for a bucket prefix; verify needs a log', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'tai-deploy-'));
  const r = await runTai(['log', 'verify', dir, '--all-origins']);
  t.is(r.code, 2);
  t.regex(r.err.join('\n'), /--all-origins lists the logs anchored under a bucket prefix: expected gs:\/\/BUCKET\/PREFIX/);
  t.is((await runTai(['log', 'verify'])).code, 2);
});

test('tai serve --succeeds DIR records the predecessor in a new log, and only there; verify checks it', async (t) => {
  const before = await fixtureLog({ seed: 5, origin: 'test.tai.dev/before' });
  await before.grow(260).publish();
  const root = await mkdtemp(join(tmpdir(), 'tai-succeeds-'));
  const lines: string[] = [];
  const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
  const start = () =>
    startServer({
      feed: folderFeed('config/samples'),
      listen: { host: '127.0.0.1', port: 0 },
      logDir: join(root, 'log'),
      keyPath: join(root, 'signing.key'),
      origin: 'test.tai.dev/after',
      stateEvery: 10_000,
      durability: 'sync',
      auth: { mode: 'none' },
      predecessor: predecessorOf({ succeeds: before.logDir }, io),
      clock: { now: () => Date.now() },
      io,
    });
  await (await start()).stop();
  t.true(lines.some((l) => /this log succeeds test\.tai\.dev\/before at its checkpoint of 260 entries/.test(l)), lines.join('\n'));
  await (await start()).stop(); // a restart of the same log: its first entry named the predecessor already
  t.is(lines.filter((l) => /this log succeeds/.test(l)).length, 1);
  const r = await runTai(['log', 'verify', before.logDir, join(root, 'log')]);
  t.is(r.code, 0, r.err.join('\n'));
  t.regex(r.out.join('\n'), /✓ test\.tai\.dev\/after: \d+ entries, .*; succeeds test\.tai\.dev\/before at 260/);
  const alone = await runTai(['log', 'verify', join(root, 'log'), join(root, 'log')]);
  t.regex(alone.err.join('\n'), /not among the logs given/);
});

test('tai serve --succeeds: previous needs --gcs and a {log} origin; a location is checked before starting', async (t) => {
  const previous = await runTai(['serve', '--from', 'config/samples', '--succeeds', 'previous']);
  t.is(previous.code, 2);
  t.regex(previous.err.join('\n'), /--succeeds previous goes with --gcs gs:\/\/BUCKET\/PREFIX and an --origin with \{log\}/);
  const ftp = await runTai(['serve', '--from', 'config/samples', '--succeeds', 'ftp://example/log']);
  t.is(ftp.code, 2);
  t.regex(ftp.err.join('\n'), /unsupported log location ftp:\/\/example\/log/);
  const empty = await mkdtemp(join(tmpdir(), 'tai-none-'));
  const io = { out: () => undefined, err: () => undefined };
  await t.throwsAsync(predecessorOf({ succeeds: empty }, io)!('test.tai.dev/after'), { message: /^--succeeds .*: no checkpoint there \(nothing published, or not a log\)/ });
});
