import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateNoteKey, parseSignerKey, type NoteSigner } from '../signed-note.ts';

export interface LoadedKey {
  signer: NoteSigner;
  /** The signed-note verifier key (`name+hex8+base64`), what auditors pin. */
  verifierKey: string;
  /** True when this call made the key. */
  created: boolean;
}

/**
 * Reads the checkpoint signing key (a signed-note signer key, `PRIVATE+KEY+…`, e.g. a mounted Kubernetes Secret)
 * or, when `create` is set and the file is missing, makes one named `name` (mode 0600; the verifier key is written
 * beside it as PATH.pub).
 */
export async function loadSigningKey(opts: { path: string; name: string; create: boolean }): Promise<LoadedKey> {
  let text: string | undefined;
  try {
    text = (await readFile(opts.path, 'utf8')).trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !opts.create) throw e;
  }
  if (text !== undefined) {
    const signer = parseSignerKey(text);
    return { signer, verifierKey: signer.verifierKey, created: false };
  }
  return createSigningKey(opts);
}

/**
 * Makes a new signing key named `name` at `path` (mode 0600) and its verifier key at PATH.pub. Never overwrites:
 * an existing `path` is an EEXIST error, since replacing a log's key orphans every checkpoint it signed.
 */
export async function createSigningKey(opts: { path: string; name: string }): Promise<LoadedKey> {
  const { signerKey, verifierKey } = generateNoteKey(opts.name);
  await mkdir(dirname(opts.path), { recursive: true });
  await writeFile(opts.path, `${signerKey}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(opts.path, 0o600);
  await writeFile(`${opts.path}.pub`, `${verifierKey}\n`);
  return { signer: parseSignerKey(signerKey), verifierKey, created: true };
}
