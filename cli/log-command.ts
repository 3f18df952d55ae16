import {
  decodeEntryBundle,
  decodeReceipt,
  entryBundlePath,
  hashLeaf,
  parseCheckpoint,
  toHex,
  TILE_WIDTH,
  verifyCheckpoint,
  verifyLog,
  type Receipt,
} from '../receipts/index.ts';
import { EXIT, parseCommandArgs, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';

const USAGE = `Usage: tai log verify DIR|URL [--vkey KEY|FILE] [--json]
       tai log show INDEX [--log DIR|URL] [--vkey KEY|FILE]

verify   checks a published receipt log without trusting its publisher: the checkpoint's Ed25519 signature by
         the pinned verifier key, every entry's deterministic CBOR, index and prev link, every hash tile, and
         the Merkle root. Names the first bad entry or file. Exit 0 verified, 1 a defect.
show     prints entry INDEX as JSON (byte strings as hex), with its leaf hash.
Options:
  --vkey KEY|FILE   the signed-note verifier key to pin (default for a folder: ../signing.key.pub beside it)
  --log DIR|URL     the log for show (default ./.tai/log)
  --json            print the verification as JSON`;

export const logCommand: Command = {
  name: 'log',
  summary: 'verify and read the receipt log (verify, show)',
  usage: USAGE,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs(argv, { vkey: { type: 'string' }, log: { type: 'string' }, json: { type: 'boolean' } });
    if (values.help) return (io.out(USAGE), EXIT.ok);
    const [sub, arg] = positionals;
    if (positionals.length !== 2 || arg === undefined) throw new UsageError('expected: tai log verify DIR|URL, or tai log show INDEX');
    if (sub === 'verify') return verify({ location: arg, vkey: stringOption(values, 'vkey'), json: values.json === true, io });
    if (sub === 'show') return show({ index: arg, location: stringOption(values, 'log') ?? '.tai/log', vkey: stringOption(values, 'vkey'), io });
    throw new UsageError(`unknown log command ${JSON.stringify(sub)}`);
  },
};

async function verify(c: { location: string; vkey: string | undefined; json: boolean; io: CommandIO }): Promise<number> {
  const verifierKey = await verifierKeyFrom(c.vkey, c.location);
  const started = performance.now();
  const result = await verifyLog({ read: logReader(c.location), verifierKey });
  const seconds = (performance.now() - started) / 1000;
  if (c.json) c.io.out(JSON.stringify({ ...result, checkpoint: result.checkpoint && { ...result.checkpoint, root: toHex(result.checkpoint.root) } }, null, 2));
  else if (result.ok) {
    const cp = result.checkpoint!;
    c.io.out(`✓ ${c.location}: ${cp.size} entries verified in ${seconds.toFixed(2)} s (${Math.round(cp.size / Math.max(seconds, 1e-9))}/s)`);
    c.io.out(`  origin ${cp.origin}, root ${toHex(cp.root)}, signed by ${verifierKey.split('+').slice(0, 2).join('+')}`);
  } else {
    for (const d of result.defects) c.io.err(`✗ ${d.index !== undefined ? `entry ${d.index}` : d.path}: ${d.message}${d.path && d.index !== undefined ? ` (${d.path})` : ''}`);
  }
  return result.ok ? EXIT.ok : EXIT.finding;
}

async function show(c: { index: string; location: string; vkey: string | undefined; io: CommandIO }): Promise<number> {
  const index = Number(c.index);
  if (!Number.isSafeInteger(index) || index < 0) throw new UsageError(`INDEX must be a whole number, got ${JSON.stringify(c.index)}`);
  const read = logReader(c.location);
  const note = await read('checkpoint');
  if (note === undefined) return (c.io.err(`${c.location}: no checkpoint`), EXIT.finding);
  const checkpoint = c.vkey === undefined && /^https?:/.test(c.location) ? parseCheckpoint(noteText(note)) : verifyCheckpoint(note, await verifierKeyFrom(c.vkey, c.location)).checkpoint;
  if (index >= checkpoint.size) return (c.io.err(`entry ${index} is past the checkpoint (size ${checkpoint.size})`), EXIT.finding);
  const bundle = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, checkpoint.size - bundle * TILE_WIDTH);
  const bytes = await read(entryBundlePath({ index: bundle, width }));
  if (bytes === undefined) return (c.io.err(`entry bundle for ${index} is missing`), EXIT.finding);
  const entry = decodeEntryBundle(bytes, width)[index % TILE_WIDTH]!;
  c.io.out(JSON.stringify({ ...receiptJson(decodeReceipt(entry)), leafHash: toHex(hashLeaf(entry)) }, null, 2));
  return EXIT.ok;
}

function noteText(note: Uint8Array): string {
  const text = new TextDecoder().decode(note);
  return text.slice(0, text.indexOf('\n\n') + 1);
}

/** A receipt as JSON: byte strings as hex, big integers as decimal text. */
export function receiptJson(r: Receipt): object {
  return JSON.parse(JSON.stringify(r, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : typeof v === 'bigint' ? v.toString() : v))) as object;
}
