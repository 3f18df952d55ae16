// `tai log keygen`: a key a Secret can hold, that signs checkpoints its .pub verifies, and that is never replaced.
import test from 'ava';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signCheckpoint, verifyCheckpoint } from '../receipts/index.ts';
import { loadSigningKey } from '../receipts/store/index.ts';
import { runTai } from '../test/support/log-fixture.ts';

const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'tai-keygen-'));

test('keygen writes a 0600 signer key whose checkpoints the .pub verifies, and prints that verifier key', async (t) => {
  const out = join(await tempDir(), 'secret', 'key');
  const r = await runTai(['log', 'keygen', 'tai.dev/cluster/prod/tai-0', '--out', out]);
  t.is(r.code, 0, r.err.join('\n'));
  t.is((await stat(out)).mode & 0o777, 0o600);
  const vkey = (await readFile(`${out}.pub`, 'utf8')).trim();
  t.regex(vkey, /^tai\.dev\/cluster\/prod\/tai-0\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/);
  t.true(r.out.some((l) => l.endsWith(vkey)));
  // What `tai serve --key` does with it: loads it, never remakes it, and signs checkpoints the .pub verifies.
  const key = await loadSigningKey({ path: out, name: 'ignored', create: true });
  t.false(key.created);
  t.is(key.verifierKey, vkey);
  const note = signCheckpoint({ origin: 'tai.dev/cluster/prod/tai-0', size: 1, root: new Uint8Array(32) }, key.signer);
  t.is(verifyCheckpoint(note, vkey).checkpoint.size, 1);
});

test('keygen never replaces a key: exit 1, the file unchanged', async (t) => {
  const out = join(await tempDir(), 'key');
  await writeFile(out, 'PRIVATE+KEY+keep-me\n');
  const r = await runTai(['log', 'keygen', 'other', '--out', out]);
  t.is(r.code, 1);
  t.regex(r.err.join('\n'), /exists: refusing to replace a signing key/);
  t.is(await readFile(out, 'utf8'), 'PRIVATE+KEY+keep-me\n');
});

test('keygen usage errors: no --out (a secret is never printed), a name signed notes cannot carry', async (t) => {
  const dir = await tempDir();
  const noOut = await runTai(['log', 'keygen', 'prod']);
  t.is(noOut.code, 2);
  t.regex(noOut.err[0]!, /needs --out FILE/);
  t.false(noOut.out.some((l) => l.includes('PRIVATE+KEY')));
  const badName = await runTai(['log', 'keygen', 'a+b', '--out', join(dir, 'k')]);
  t.is(badName.code, 2);
  t.regex(badName.err[0]!, /NAME: .*"a\+b".*"\+"/);
  await t.throwsAsync(stat(join(dir, 'k')), { code: 'ENOENT' });
});
