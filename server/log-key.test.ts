// One rule for where a log's checkpoint key is found: `tai serve --log DIR` makes it where `tai log proof`,
// `tai log verify`/`query`/`show`/`consistency` and `tai audit report` look for it (signing.key beside DIR).
import test from 'ava';
import { access, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { post, startServe, stopServe } from '../test/support/served.ts';
import { fixtureLog, runTai } from '../test/support/log-fixture.ts';

const SAMPLES = resolve(import.meta.dirname, '../config/samples');
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

test('tai serve --log DIR makes its key beside DIR, where tai log proof, verify, query and audit report find it', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'tai-key-'));
  const [cwd, logDir] = [join(base, 'cwd'), join(base, 'state', 'log')];
  await mkdir(cwd);
  const s = await startServe(['--from', SAMPLES, '--listen', '127.0.0.1:0', '--log', logDir], { cwd });
  try {
    for (let i = 0; i < 3; i++) t.like(await post(`${s.url}/v1/check`, { tenant: 'acme', feature: 'sso' }), { allowed: false });
  } finally {
    await stopServe(s);
  }
  t.true(await exists(join(base, 'state', 'signing.key')), s.stdout.join('\n'));
  t.false(await exists(join(cwd, '.tai', 'signing.key')), 'no key made under the working folder');
  const proof = await runTai(['log', 'proof', '1', '--log', logDir, '--out', join(base, 'r.cose')]);
  t.is(proof.code, 0, proof.err.join('\n'));
  for (const argv of [['log', 'verify', logDir], ['log', 'query', logDir, '--kind', 'decision'], ['audit', 'report', '--from', logDir, '--out', join(base, 'audit.html')]]) {
    const r = await runTai(argv);
    t.is(r.code, 0, `${argv.join(' ')}: ${r.err.join('\n')}`);
  }
});

test('tai serve refuses to make a new key for a log that already holds checkpoints, naming the key it wants', async (t) => {
  const log = await fixtureLog();
  await log.grow(5).publish();
  const elsewhere = join(log.dir, 'moved');
  const r = await runTai(['serve', '--from', SAMPLES, '--listen', '127.0.0.1:0', '--log', log.logDir, '--key', join(elsewhere, 'signing.key')]);
  t.is(r.code, 2, r.out.join('\n'));
  t.regex(r.err.join('\n'), /--key: no signing key at .*moved\/signing\.key, but .*log already holds a checkpoint signed by test\.tai\.dev\/log\+[0-9a-f]{8}/);
  t.false(await exists(join(elsewhere, 'signing.key')), 'no key was made');
});
