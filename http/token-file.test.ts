import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTokenFile, TokenFileError, TokenFileVerifier, type TokenFileOptions } from './token-file.ts';

const TOKENS = `# callers of the decision API
alice-token,alice,1001,"tai:callers,tai:admins"

bob-token,bob,,tai:callers
  ci-token , ci , 7
`;

async function setup(t: ExecutionContext, text: string, opts: TokenFileOptions = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-tokens-'));
  const file = join(dir, 'tokens.csv');
  await writeFile(file, text);
  const errors: Error[] = [];
  const reloads: number[] = [];
  const open = () => TokenFileVerifier.open(file, { pollMs: 100, onError: (e) => errors.push(e), onReload: (r) => reloads.push(r.tokens), ...opts });
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { dir, file, errors, reloads, open };
}

async function eventually(probe: () => Promise<boolean> | boolean, deadlineMs = 15_000): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}

test('valid tokens name their user, uid and groups; others are rejected', async (t) => {
  const { open } = await setup(t, TOKENS);
  const tokens = await open();
  t.teardown(() => tokens.close());
  t.is(tokens.size, 3);
  t.deepEqual(await tokens.verify('alice-token'), { name: 'alice', uid: '1001', groups: ['tai:callers', 'tai:admins'] });
  t.deepEqual(await tokens.verify('bob-token'), { name: 'bob', groups: ['tai:callers'] });
  t.deepEqual(await tokens.verify('ci-token'), { name: 'ci', uid: '7', groups: [] });
  for (const wrong of ['alice-toke', 'alice-token ', 'ALICE-TOKEN', '', 'alice']) t.is(await tokens.verify(wrong), undefined, JSON.stringify(wrong));
});

test('a principal handed out cannot change the file\'s', async (t) => {
  const { open } = await setup(t, TOKENS);
  const tokens = await open();
  t.teardown(() => tokens.close());
  (await tokens.verify('alice-token'))!.groups.push('system:masters');
  t.deepEqual((await tokens.verify('alice-token'))!.groups, ['tai:callers', 'tai:admins']);
});

test('an edit is picked up without a restart', async (t) => {
  const { file, open, reloads, errors } = await setup(t, TOKENS);
  const tokens = await open();
  t.teardown(() => tokens.close());
  await writeFile(file, 'carol-token,carol,1003\n');
  t.true(await eventually(async () => (await tokens.verify('carol-token')) !== undefined));
  t.is(await tokens.verify('alice-token'), undefined, 'a removed token is revoked');
  t.deepEqual(reloads.at(-1), 1);
  t.deepEqual(errors, []);
});

test('an editor\'s save-by-rename is picked up by the directory watch alone', async (t) => {
  const { dir, file, open } = await setup(t, TOKENS, { pollMs: 0 });
  const tokens = await open();
  t.teardown(() => tokens.close());
  await writeFile(join(dir, '.tokens.csv.swp'), 'dave-token,dave,1004\n');
  await rename(join(dir, '.tokens.csv.swp'), file);
  t.true(await eventually(async () => (await tokens.verify('dave-token')) !== undefined));
});

test('a malformed line fails the start, naming the file and the line, without quoting the token', async (t) => {
  const { file, open } = await setup(t, '# header\nalice-token,alice,1001\nsecret-xyz,bob\n');
  const error = await t.throwsAsync(open(), { instanceOf: TokenFileError });
  t.is(error.message, `${file}:3: 2 column(s), expected token,user,uid[,"group1,group2"]`);
  t.deepEqual(error.problems, [{ line: 3, message: '2 column(s), expected token,user,uid[,"group1,group2"]' }]);
  t.notRegex(error.message, /secret-xyz/);
});

test('every bad line is named: columns, quotes, empty fields, duplicates', (t) => {
  const text = ['a,alice,1,g1,g2', 'b,bob,2,"g1', ',carol,3', 'd,,4', 'e,eve,5', 'e,eve-again,6', 'f,frank,7,"g ""one"",g2"'].join('\n');
  const error = t.throws(() => parseTokenFile(text, 'tokens.csv'), { instanceOf: TokenFileError });
  t.deepEqual(
    error.problems.map((p) => p.line),
    [1, 2, 3, 4, 6],
  );
  t.regex(error.message, /^tokens\.csv:1: 5 columns, .*quote the groups when there are several$/m);
  t.regex(error.message, /^tokens\.csv:2: unbalanced quotes/m);
  t.regex(error.message, /^tokens\.csv:3: the token \(column 1\) is empty$/m);
  t.regex(error.message, /^tokens\.csv:4: the user name \(column 2\) is empty$/m);
  t.regex(error.message, /^tokens\.csv:6: the same token as line 5/m);
  t.deepEqual(parseTokenFile('f,frank,7,"g ""one"",g2"\r\n', 'x')[0]!.principal.groups, ['g "one"', 'g2']);
});

test('a malformed edit keeps the previous tokens and is reported once; the fix is then picked up', async (t) => {
  const { file, open, errors } = await setup(t, TOKENS);
  const tokens = await open();
  t.teardown(() => tokens.close());
  await writeFile(file, 'alice-token,alice,1001\nbroken-line\n');
  t.true(await eventually(() => errors.length > 0));
  t.regex(errors[0]!.message, /tokens\.csv:2: 1 column\(s\)/);
  t.truthy(await tokens.verify('bob-token'), 'the previous set is still in service');
  t.false(await tokens.reload());
  t.is(errors.length, 1, 'the same broken content is not reported again');
  await writeFile(file, 'alice-token,alice,1001\n');
  t.true(await eventually(async () => (await tokens.verify('bob-token')) === undefined));
  t.truthy(await tokens.verify('alice-token'));
});

test('a missing file fails the start; a file removed later is reported and the tokens stay', async (t) => {
  const { file, open, errors } = await setup(t, TOKENS, { watch: false, pollMs: 0 });
  const tokens = await open();
  t.teardown(() => tokens.close());
  await rm(file);
  t.false(await tokens.reload());
  t.regex(errors[0]!.message, /token file .*tokens\.csv: ENOENT/);
  t.truthy(await tokens.verify('alice-token'));
  await t.throwsAsync(TokenFileVerifier.open(file), { message: /token file .*tokens\.csv: ENOENT/ });
});
