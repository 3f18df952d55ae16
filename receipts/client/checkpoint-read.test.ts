import test from 'ava';
import { generateNoteKey, signCheckpoint, type ReadLogFile } from '../index.ts';
import { readCheckpointFile } from './checkpoint-read.ts';

const ORIGIN = 'tai.test/checkpoint-read';
const key = generateNoteKey(ORIGIN);
const other = generateNoteKey('another.test/log');
const checkpoint = { origin: ORIGIN, size: 7, root: new Uint8Array(32).fill(7) };
const files = (map: Record<string, string>): ReadLogFile => async (path) => (path in map ? new TextEncoder().encode(map[path]) : undefined);

test('verified with the pinned key, or only parsed without one; a per-size anchor by its path', async (t) => {
  const note = signCheckpoint(checkpoint, key.signerKey);
  const read = files({ checkpoint: note, 'checkpoints/7': note });
  t.like(await readCheckpointFile(read, { verifierKey: key.verifierKey }), { checkpoint: { origin: ORIGIN, size: 7 } });
  t.like(await readCheckpointFile(read, { verifierKey: undefined }), { checkpoint: { origin: ORIGIN, size: 7 } });
  t.like(await readCheckpointFile(read, { verifierKey: key.verifierKey, path: 'checkpoints/7' }), { checkpoint: { size: 7 } });
});

test('missing reads as undefined; a read that fails throws the reader\'s error as is', async (t) => {
  t.is(await readCheckpointFile(files({}), { verifierKey: key.verifierKey }), undefined);
  const failure = new Error('503 Service Unavailable');
  await t.throwsAsync(readCheckpointFile(() => Promise.reject(failure), { verifierKey: undefined }), { is: failure });
});

test("another key's or a damaged note is returned as invalid with the reason, for the caller to judge", async (t) => {
  const foreign = files({ checkpoint: signCheckpoint(checkpoint, other.signerKey) });
  const foreignRead = await readCheckpointFile(foreign, { verifierKey: key.verifierKey });
  t.regex(foreignRead !== undefined && 'invalid' in foreignRead ? foreignRead.invalid.message : '', /^UnverifiedNote: no signature by a known key/);
  t.like(await readCheckpointFile(foreign, { verifierKey: undefined }), { checkpoint: { size: 7 } }, 'parsing alone does not check the signer');
  const damaged = files({ checkpoint: 'tai.test/checkpoint-read\nseven\n' });
  const damagedRead = await readCheckpointFile(damaged, { verifierKey: undefined });
  t.regex(damagedRead !== undefined && 'invalid' in damagedRead ? damagedRead.invalid.message : '', /^MissingSignatures/);
});
