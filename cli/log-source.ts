import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseVerifierKey, type ReadLogFile } from '../receipts/index.ts';
import { UsageError } from './io.ts';

/** Reads the published log from a folder or an http(s) URL (e.g. http://127.0.0.1:8080/log). */
export function logReader(location: string): ReadLogFile {
  if (/^https?:\/\//.test(location)) {
    const base = location.replace(/\/+$/, '');
    return async (path) => {
      const res = await fetch(`${base}/${path}`);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`GET ${base}/${path}: ${res.status} ${res.statusText}`);
      return new Uint8Array(await res.arrayBuffer());
    };
  }
  if (/^[a-z]+:\/\//.test(location)) throw new UsageError(`unsupported log location ${location}: use a folder or an http(s) URL`);
  return async (path) => {
    try {
      return new Uint8Array(await readFile(join(location, path)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  };
}

/**
 * The verifier key to pin: `--vkey` as a key string or a file holding one; by default, for a folder, the key
 * `tai serve` wrote beside the default log (.tai/signing.key.pub).
 */
export async function verifierKeyFrom(vkey: string | undefined, location: string): Promise<string> {
  const candidate = vkey ?? (/^https?:/.test(location) ? undefined : join(location, '..', 'signing.key.pub'));
  if (candidate === undefined) throw new UsageError('--vkey is required to verify a log by URL: pin the verifier key the operator published');
  try {
    return parseVerifierKey(candidate).key; // a key string (names such as tai.dev/embedded/host contain "/")
  } catch {
    // not a key string: a file holding one
  }
  try {
    return (await readFile(candidate, 'utf8')).trim();
  } catch {
    throw new UsageError(`--vkey: ${candidate} is neither a verifier key (name+hex8+base64) nor a readable file`);
  }
}
