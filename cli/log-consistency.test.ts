// `tai log consistency`: an auditor's old checkpoint against the log as it is now — extension proven from the
// published tiles, rollback and split view named.
import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { consistencyProofFromLeaves, signCheckpoint, toHex } from '../receipts/index.ts';
import { FIXTURE_ORIGIN, fixtureEntry, fixtureLog, runTai, type FixtureLog } from '../test/support/log-fixture.ts';

const SIZE = 600;
const KEPT = [1, 100, 256, 511, SIZE];

let shared: Promise<{ log: FixtureLog; kept: Map<number, string> }> | undefined;
/** A log published at sizes 1, 100, 256, 511 and 600, each checkpoint kept in a file as an auditor would. */
function grown(): Promise<{ log: FixtureLog; kept: Map<number, string> }> {
  shared ??= (async () => {
    const log = await fixtureLog();
    const kept = new Map<number, string>();
    for (const size of KEPT) {
      const file = join(log.dir, `checkpoint.${size}`);
      await writeFile(file, await log.grow(size).publish());
      kept.set(size, file);
    }
    return { log, kept };
  })();
  return shared;
}

for (const old of KEPT) {
  test(`consistency from the checkpoint at ${old} to the log at ${SIZE}: exit 0, the RFC 9162 proof`, async (t) => {
    const { log, kept } = await grown();
    const r = await runTai(['log', 'consistency', kept.get(old)!, '--log', log.logDir, '--json']);
    t.is(r.code, 0, r.err.join('\n'));
    const json = JSON.parse(r.out.join('\n')) as { consistent: boolean; old: { size: number }; new: { size: number }; proof: string[] };
    t.like(json, { consistent: true, old: { size: old }, new: { size: SIZE } });
    const leaves = log.entries.map((e) => e.leafHash);
    t.deepEqual(json.proof, consistencyProofFromLeaves(old, SIZE, leaves).map(toHex), 'the proof from tiles is the one from the leaves');
  });
}

test('consistency prints the proof as hex lines', async (t) => {
  const { log, kept } = await grown();
  const r = await runTai(['log', 'consistency', kept.get(100)!, '--log', log.logDir]);
  t.is(r.code, 0, r.err.join('\n'));
  t.is(r.out[0], `✓ consistent: the log at size ${SIZE} extends ${kept.get(100)} (size 100)`);
  t.is(r.out[1], `  origin ${FIXTURE_ORIGIN}`);
  const proof = consistencyProofFromLeaves(100, SIZE, log.entries.map((e) => e.leafHash));
  t.is(r.out[4], `  proof  ${proof.length} hashes (RFC 9162 §2.1.4):`);
  t.deepEqual(r.out.slice(5), proof.map((h) => `    ${toHex(h)}`));
});

/** A log with the same key and origin that agrees with the fixture up to `from`, then differs. */
async function fork(from: number, size: number): Promise<FixtureLog> {
  const other = await fixtureLog();
  const made = other.grow(size, (i) => (i < from ? fixtureEntry(i) : { kind: 'lifecycle', body: { event: 'stop', version: `fork ${i}` } }));
  await made.publish();
  return other;
}

test('split view: a checkpoint of a fork, signed by the same key, is not extended by the log', async (t) => {
  const { log } = await grown();
  const other = await fork(50, 120);
  const forkCheckpoint = join(other.dir, 'checkpoint.fork');
  await writeFile(forkCheckpoint, await readFile(join(other.logDir, 'checkpoint')));
  const r = await runTai(['log', 'consistency', forkCheckpoint, '--log', log.logDir]);
  t.is(r.code, 1);
  t.deepEqual(r.out, []);
  t.regex(r.err[0]!, /^✗ split view: the log at size 600 does not extend .*checkpoint\.fork \(size 120\): .* signs root [0-9a-f]{64}, the log's first 120 entries give [0-9a-f]{64} \(RootMismatch\)$/);
});

test('a fork of the same size is a split view too', async (t) => {
  const { log } = await grown();
  const other = await fork(599, SIZE);
  const r = await runTai(['log', 'consistency', join(other.logDir, 'checkpoint'), '--log', log.logDir]);
  t.is(r.code, 1);
  t.regex(r.err[0]!, /^✗ split view: the log at size 600 does not extend .* \(size 600\)/);
});

test('rollback: the log now has fewer entries than an old checkpoint', async (t) => {
  const { kept } = await grown();
  const shorter = await fork(600, 300); // the same first 300 entries: a truncated copy
  const r = await runTai(['log', 'consistency', kept.get(SIZE)!, '--log', shorter.logDir]);
  t.is(r.code, 1);
  t.regex(r.err[0]!, /^✗ rollback: .*checkpoint\.600 signs 600 entries, the log's checkpoint only 300/);
  t.is((await runTai(['log', 'consistency', kept.get(256)!, '--log', shorter.logDir])).code, 0, 'the truncated copy does extend the checkpoint at 256');
});

test('an old checkpoint by another key, or of another origin, is named', async (t) => {
  const { log } = await grown();
  const stranger = await fixtureLog({ seed: 9 });
  await stranger.grow(10).publish();
  const byOther = await runTai(['log', 'consistency', join(stranger.logDir, 'checkpoint'), '--log', log.logDir]);
  t.is(byOther.code, 1);
  t.regex(byOther.err[0]!, /^✗ .*checkpoint: not a checkpoint signed by test\.tai\.dev\/log\+[0-9a-f]{8}: /);
  const elsewhere = join(log.dir, 'checkpoint.elsewhere');
  await writeFile(elsewhere, signCheckpoint({ origin: 'test.tai.dev/other', size: 1, root: log.entries[0]!.leafHash }, log.signerKey));
  const otherOrigin = await runTai(['log', 'consistency', elsewhere, '--log', log.logDir]);
  t.is(otherOrigin.code, 1);
  t.regex(otherOrigin.err[0]!, /^✗ different logs: .* is for origin "test\.tai\.dev\/other", the log's checkpoint for "test\.tai\.dev\/log"$/);
  t.is((await runTai(['log', 'consistency', join(log.dir, 'nope'), '--log', log.logDir])).code, 2, 'a missing file is a usage error');
});
