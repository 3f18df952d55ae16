import { decodeEntryBundle, decodeReceipt, entryBundlePath, hashLeaf, parseCheckpoint, toHex, TILE_WIDTH, verifyCheckpoint, type Receipt } from '../receipts/index.ts';
import { EXIT, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { flagsHelp, parseFlags } from './flags.ts';
import { consistencyCommand } from './log-consistency.ts';
import { LOG_FLAGS } from './log-flags.ts';
import { keygenCommand } from './log-keygen.ts';
import { rebuildEntriesCommand } from './log-rebuild.ts';
import { verifyCommand } from './log-verify.ts';
import { parseIndex, proofCommand } from './log-proof.ts';
import { verifyReceiptCommand } from './log-verify-receipt.ts';
import { queryCommand } from './log-query.ts';
import { jsonSafe, LogFinding, type LogSubcommand } from './log-subcommand.ts';
import { DEFAULT_LOG_DIR } from '../server/index.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';

const USAGE = `Usage: tai log verify DIR|URL|gs://BUCKET/PREFIX… [--all-origins] [--vkey KEY|FILE]
                      [--anchored-against gs://BUCKET/PREFIX] [--gcs-endpoint URL] [--json]
       tai log show INDEX [--log DIR|URL] [--vkey KEY|FILE]
       tai log query DIR|URL [--tenant T] [--kind K] [--outcome allowed|denied] [--reason R]
                     [--since TIME] [--until TIME] [--format jsonl|csv] [--vkey KEY|FILE]
       tai log proof INDEX [--log DIR|URL] [--key SIGNER_KEY_FILE] [--out FILE]
       tai log verify-receipt --receipt FILE --entry FILE --vkey KEY|FILE [--checkpoint FILE]
       tai log consistency OLD_CHECKPOINT_FILE [--log DIR|URL] [--vkey KEY|FILE] [--json]
       tai log keygen NAME --out FILE
       tai log rebuild-entries DIR [--from DIR|URL|gs://BUCKET/PREFIX/ORIGIN] [--vkey KEY|FILE] [--gcs-endpoint URL]

verify          checks a published receipt log without trusting its publisher: the checkpoint's Ed25519
                signature by the pinned verifier key, every entry's deterministic CBOR, index and prev link,
                every hash tile, and the Merkle root. Names the first bad entry or file. A gs:// log (the
                anchors 'tai serve --gcs' uploads) is verified the same way, and so is every per-size
                checkpoint stored beside it: signed, named by its size, no larger than the latest (else a
                rollback), and a prefix of the log by an RFC 9162 consistency proof (else a rewrite or a split
                view). --anchored-against checks a folder or URL against its bucket's anchors in the same way.
                A log folder's entry file (DIR/entries, which 'tai serve' derives everything from) is compared
                with the published files too: every published entry there byte for byte, none missing.
                Several logs (the replicas of one deployment), or --all-origins with gs://BUCKET/PREFIX (every
                log anchored under the prefix), are verified each as above and summed up as one deployment:
                a log whose first entry names the log it succeeds (tai serve --succeeds) must find that log
                among them holding the checkpoint recorded, else a missing or rewritten log is a finding.
                A --vkey file may hold one key a line: each log is verified with the one that signed it.
show            prints entry INDEX as JSON (byte strings as hex), with its leaf hash.
query           verifies the log as it reads it and streams the entries that match every filter given:
                JSON lines {index, time, kind, leafHash, body} (bytes as hex), or CSV with the columns
                index,time,kind,tenant,op,subject,amount,allowed,reason,used,limit,leafHash. A summary goes
                to stderr. On a defect mid-stream it stops, names the defect on stderr and exits 1: the lines
                already printed are then not proven by the checkpoint.
proof           an RFC 9942 COSE Receipt of inclusion for entry INDEX against the current checkpoint: a
                COSE_Sign1 signed with the checkpoint key (EdDSA, vds RFC9162_SHA256) over the detached Merkle
                root, the RFC 9162 inclusion proof in its unprotected header. Prints JSON {index, treeSize,
                root, leafHash, receipt, entry} (hex); with --out writes the receipt to FILE, the entry
                bytes to FILE.entry and the signed checkpoint it was issued against to FILE.checkpoint.
                A verifier needs the receipt, the entry and the verifier key; the checkpoint proves the size.
verify-receipt  checks a receipt offline: the entry is the leaf it proves (a TAI entry holds its index), the
                root recomputed from the entry and the inclusion proof is what the key signed. The signature
                covers the root only: the tree size in the receipt's unsigned header is reported as claimed,
                not proven, unless --checkpoint gives a checkpoint signed by the same key whose size and root
                are the receipt's (else SizeMismatch or RootMismatch, exit 1). Files may be binary or hex.
consistency     proves the log's current checkpoint extends OLD_CHECKPOINT_FILE (a checkpoint kept
                earlier): both signed by the pinned key, same origin, and the RFC 9162 consistency proof
                from the published tiles verifies. Prints the proof; names a rollback or a split view.
keygen          makes a checkpoint signing key named NAME (a signed-note key name: no spaces or "+") at FILE,
                mode 0600, and its verifier key at FILE.pub, for a secret that 'tai serve --key' mounts. Never
                overwrites a key. See docs/deploy.md.
rebuild-entries writes DIR/entries.rebuilt from the published copy of the log (DIR's own tiles, or --from a URL
                or the anchor bucket), verified as 'verify' does, for a server that refuses to start because
                DIR/entries lost or changed published entries (docs/deploy.md). Never replaces a file.
Exit status: 0 verified, 1 a finding (a defect, a failed proof), 2 a usage error.
Options:
${flagsHelp(LOG_FLAGS, 18)}`;

export const SUBCOMMANDS: Record<string, LogSubcommand> = {
  verify: verifyCommand,
  show: {
    flags: ['log', 'vkey'],
    args: ['INDEX'],
    run: ({ args, values, io }) => show({ index: args[0]!, location: stringOption(values, 'log') ?? DEFAULT_LOG_DIR, vkey: stringOption(values, 'vkey'), io }),
  },
  query: queryCommand,
  proof: proofCommand,
  'verify-receipt': verifyReceiptCommand,
  consistency: consistencyCommand,
  keygen: keygenCommand,
  'rebuild-entries': rebuildEntriesCommand,
};

/** The subcommand named first, with only its own flags and its number of arguments. */
function subcommandOf(positionals: string[], values: Record<string, unknown>): { name: string; sub: LogSubcommand; args: string[] } {
  const [name, ...args] = positionals;
  if (name === undefined) throw new UsageError(`expected a log command: ${Object.keys(SUBCOMMANDS).join(', ')}`);
  const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (sub === undefined) throw new UsageError(`unknown log command ${JSON.stringify(name)}: expected ${Object.keys(SUBCOMMANDS).join(', ')}`);
  const foreign = Object.keys(values).find((flag) => flag !== 'help' && values[flag] !== undefined && !(sub.flags as readonly string[]).includes(flag));
  if (foreign !== undefined) throw new UsageError(`--${foreign} is not an option of tai log ${name}`);
  if (sub.moreArgs ? args.length < sub.args.length : args.length !== sub.args.length) throw new UsageError(`expected: tai log ${[name, ...sub.args].join(' ')}, got ${args.length} argument(s) after ${name}`);
  return { name, sub, args };
}

export const logCommand: Command = {
  name: 'log',
  summary: 'verify, query and prove the receipt log (verify, show, query, proof, verify-receipt, consistency, keygen, rebuild-entries)',
  usage: USAGE,
  flags: LOG_FLAGS,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, LOG_FLAGS);
    if (values.help) return (io.out(USAGE), EXIT.ok);
    const { sub, args } = subcommandOf(positionals, values);
    try {
      return await sub.run({ args, values, io });
    } catch (e) {
      if (!(e instanceof LogFinding)) throw e;
      io.err(`✗ ${e.message}`);
      return EXIT.finding;
    }
  },
};

async function show(c: { index: string; location: string; vkey: string | undefined; io: CommandIO }): Promise<number> {
  const index = parseIndex(c.index);
  const read = logReader(c.location);
  const note = await read('checkpoint');
  if (note === undefined) return (c.io.err(`${c.location}: no checkpoint`), EXIT.finding);
  const checkpoint = c.vkey === undefined && /^https?:/.test(c.location) ? parseCheckpoint(noteText(note)) : verifyCheckpoint(note, await verifierKeyFrom(c.vkey, c.location)).checkpoint;
  if (index >= checkpoint.size) return (c.io.err(`entry ${index} is past the checkpoint (size ${checkpoint.size})`), EXIT.finding);
  const bundle = Math.floor(index / TILE_WIDTH);
  const width = Math.min(TILE_WIDTH, checkpoint.size - bundle * TILE_WIDTH);
  const bytes = await read(entryBundlePath({ index: bundle, width }));
  if (bytes === undefined) return (c.io.err(`entry bundle for ${index} is missing`), EXIT.finding);
  const entry = decodedOrFinding(`${entryBundlePath({ index: bundle, width })}`, () => decodeEntryBundle(bytes, width)[index % TILE_WIDTH]!);
  const receipt = decodedOrFinding(`entry ${index}`, () => decodeReceipt(entry));
  c.io.out(JSON.stringify({ ...receiptJson(receipt), leafHash: toHex(hashLeaf(entry)) }, null, 2));
  return EXIT.ok;
}

/** What `decode` returns; a damaged file or entry is a finding naming it (exit 1), never a crash. */
function decodedOrFinding<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (e) {
    throw new LogFinding(`${what} is damaged: ${(e as Error).message}`);
  }
}

function noteText(note: Uint8Array): string {
  const text = new TextDecoder().decode(note);
  return text.slice(0, text.indexOf('\n\n') + 1);
}

/** A receipt as JSON: byte strings as hex, big integers as decimal text. */
export function receiptJson(r: Receipt): object {
  return jsonSafe(r) as object;
}
