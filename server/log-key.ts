// Where a log's checkpoint key is, when no flag names it: one rule for `tai serve` (which makes the key on first
// start), `tai log verify|show|query|proof|consistency` and `tai audit report`.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCheckpoint, type ReadLogFile } from '../receipts/index.ts';
import { loadSigningKey, type LoadedKey } from '../receipts/store/index.ts';
import { UsageError } from './io.ts';

/** The log `tai serve` writes and the `tai log` commands read when `--log` is not given. */
export const DEFAULT_LOG_DIR = '.tai/log';

const isRemote = (location: string): boolean => /^(https?|gs):/.test(location);

/**
 * The signer key of the log at `location`: `signing.key` beside the log folder (`.tai/log` → `.tai/signing.key`,
 * `/var/lib/tai/log` → `/var/lib/tai/signing.key`). A URL or bucket has no folder beside it: the default log's
 * key, `.tai/signing.key`.
 */
export function signingKeyPathFor(location: string): string {
  return join(isRemote(location) ? DEFAULT_LOG_DIR : location, '..', 'signing.key');
}

/** The verifier key file of the log folder `location` (its signer key's path + `.pub`); none for a URL or bucket. */
export function verifierKeyPathFor(location: string): string | undefined {
  return isRemote(location) ? undefined : `${signingKeyPathFor(location)}.pub`;
}

const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** `name+hex8 (size N)` of a signed checkpoint note, read without trusting it: for a message, not a proof. */
function describeCheckpoint(note: Uint8Array): string {
  const [body = '', signatures = ''] = new TextDecoder().decode(note).split('\n\n');
  const [, name, base64] = /^— (\S+) (\S+)$/m.exec(signatures) ?? [];
  const keyId = base64 === undefined ? '' : `+${Buffer.from(base64, 'base64').subarray(0, 4).toString('hex')}`;
  let size = '?';
  try {
    size = String(parseCheckpoint(`${body}\n`).size);
  } catch {
    // a malformed checkpoint still names its signer
  }
  return `${name ?? 'an unknown key'}${keyId} (size ${size})`;
}

/**
 * `tai serve`'s key: read from `keyPath`, or made there on first start. A log folder that already holds a
 * checkpoint was signed by some key: making a new one would orphan every checkpoint it served, so that is a
 * UsageError naming the key that signed it and where it is looked for.
 */
export async function loadServeKey(opts: { keyPath: string; logDir: string; origin: string; read: ReadLogFile }): Promise<LoadedKey> {
  const note = (await exists(opts.keyPath)) ? undefined : await opts.read('checkpoint');
  if (note !== undefined) {
    throw new UsageError(
      `--key: no signing key at ${opts.keyPath}, but ${opts.logDir} already holds a checkpoint signed by ${describeCheckpoint(note)}: a new key would orphan it. ` +
        `Pass --key with the key that signed it (by default tai serve looks for it at ${signingKeyPathFor(opts.logDir)}, beside the log folder; ` +
        'releases before this one made it at ./.tai/signing.key whatever --log said)',
    );
  }
  return loadSigningKey({ path: opts.keyPath, name: opts.origin, create: true });
}
