// `{log}` in --origin: fixed for the life of a log folder, new with a new folder, never grafted onto an old log.
import test from 'ava';
import { mkdtemp, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from './io.ts';
import { resolveOrigin } from './log-origin.ts';

const NOW = Date.parse('2026-11-23T10:15:00.250Z');
const logDir = async (): Promise<string> => join(await mkdtemp(join(tmpdir(), 'tai-origin-')), 'log');

test('an origin without {log} is used as given and writes nothing', async (t) => {
  const dir = await logDir();
  t.is(await resolveOrigin('tai.dev/cluster/prod/tai-0', dir, () => NOW), 'tai.dev/cluster/prod/tai-0');
  await t.throwsAsync(readdir(dir), { code: 'ENOENT' });
});

test('{log} becomes the folder’s id: made once, the same on every later start, another in another folder', async (t) => {
  const dir = await logDir();
  const first = await resolveOrigin('tai.dev/cloudrun/tai/{log}', dir, () => NOW);
  t.regex(first, /^tai\.dev\/cloudrun\/tai\/20261123T101500Z-[0-9a-f]{8}$/);
  t.is(await resolveOrigin('tai.dev/cloudrun/tai/{log}', dir, () => NOW + 60_000), first);
  t.not(await resolveOrigin('tai.dev/cloudrun/tai/{log}', await logDir(), () => NOW), first);
});

test('{log} is refused for a folder holding a log made without it, and for a damaged log-id', async (t) => {
  const old = await logDir();
  await mkdir(old, { recursive: true });
  await writeFile(join(old, 'entries'), new Uint8Array(10));
  const graft = await t.throwsAsync(resolveOrigin('tai.dev/cloudrun/tai/{log}', old, () => NOW), { instanceOf: UsageError });
  t.regex(graft.message, /already holds a log made under another origin/);
  t.deepEqual((await readdir(old)).sort(), ['entries']);

  const damaged = await logDir();
  await mkdir(damaged, { recursive: true });
  await writeFile(join(damaged, 'log-id'), 'not an id\n');
  const bad = await t.throwsAsync(resolveOrigin('x/{log}', damaged, () => NOW), { instanceOf: UsageError });
  t.regex(bad.message, /log-id: expected a log id/);
});
