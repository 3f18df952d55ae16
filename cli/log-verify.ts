// `tai log verify`: a published log (folder, URL or bucket) checked without trusting its publisher; with a
// bucket, also every anchored checkpoint, by consistency proof against the log.
import { decodeEntryBundle, entryBundlePath, ReceiptChain, TILE_WIDTH, toHex, type Checkpoint, type LogDefect, type LogVerification, type ReadLogFile } from '../receipts/index.ts';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnchorBucket } from '../receipts/anchor/index.ts';
import { verifyLogInWorkers } from '../receipts/client/index.ts';
import { compareEntryFile, type EntryFileComparison } from '../receipts/store/index.ts';
import { gcsBucket } from '../server/index.ts';
import { EXIT, stringOption, UsageError, type CommandIO } from './io.ts';
import { checkBucketAnchors, type Anchor } from './log-anchors.ts';
import { defectLine, keyName, type LogOptionValues, type LogSubcommand } from './log-subcommand.ts';
import { logReader, verifierKeyFor } from './log-source.ts';
import { deploymentFindings, deploymentJson, deploymentLocations, firstEntryPredecessor, printDeployment, type DeploymentLog } from './log-deployment.ts';

/** What the anchors showed: how many, how far they reach, and how far the log is past them. */
export interface AnchorSummary {
  location: string;
  checkpoints: number;
  proofs: number;
  anchoredSize: number;
  lagEntries: number;
  lastStoredAt: string | undefined;
}

export interface VerifyRun {
  location: string;
  /** The bucket whose anchors are checked: the log's own (gs://) or --anchored-against. */
  bucket: AnchorBucket | undefined;
  /** The log's files: one reader (one storage client) for the verification and the anchors' proofs. */
  read: ReadLogFile;
  verifierKey: string;
}

export const verifyCommand: LogSubcommand = {
  flags: ['vkey', 'json', 'anchored-against', 'gcs-endpoint', 'all-origins'],
  args: ['DIR|URL|gs://BUCKET/PREFIX'],
  moreArgs: true,
  async run({ args, values, io }) {
    const locations = await deploymentLocations(args, { allOrigins: values['all-origins'] === true, gcsEndpoint: stringOption(values, 'gcs-endpoint') });
    if (locations.length === 1 && values['all-origins'] !== true) {
      const one = await verifyOne(locations[0]!, values);
      report({ ...one, json: values.json === true, io });
      return one.result.ok ? EXIT.ok : EXIT.finding;
    }
    const verified: VerifiedLog[] = [];
    for (const location of locations) {
      const one = await verifyOne(location, values);
      if (values.json !== true) report({ ...one, json: false, io });
      verified.push(one);
    }
    return reportDeployment({ logs: verified, json: values.json === true, io });
  },
};

/** One log verified: as `tai log verify LOG` does, keeping what a deployment's checks need. */
export interface VerifiedLog {
  run: VerifyRun;
  result: LogVerification;
  anchors: AnchorSummary | undefined;
  entries: EntryFileComparison | undefined;
  seconds: number;
  /** The predecessor the log's first entry names (a lifecycle start), if any. */
  predecessor: DeploymentLog['predecessor'];
}

async function verifyOne(location: string, values: LogOptionValues): Promise<VerifiedLog> {
  const run = await verifyRunOf(location, values);
  const started = performance.now();
  const result = await verifyLogInWorkers({ read: run.read, verifierKey: run.verifierKey });
  const first = await firstEntryOf(run.read, result);
  const anchors = run.bucket && result.checkpoint ? await checkBucket(run, result) : undefined;
  const entries = result.ok ? await checkEntryFile(run, result.checkpoint!.size) : undefined;
  const defects = [...(anchors?.defects ?? []), ...result.defects, ...(entries?.defects ?? [])];
  const seconds = (performance.now() - started) / 1000;
  return { run, result: { ...result, ok: defects.length === 0, defects }, anchors: anchors?.summary, entries, seconds, predecessor: first.predecessor() };
}

/**
 * The first entry's predecessor, read back once verified: verifyLogInWorkers hands no entries over (an onEntry
 * would keep it in one thread), and only entry 0 can name one. Entry 0 passed when any entry did.
 */
async function firstEntryOf(read: ReadLogFile, result: LogVerification): Promise<ReturnType<typeof firstEntryPredecessor>> {
  const first = firstEntryPredecessor();
  if (result.entries === 0 || !result.checkpoint) return first;
  const width = Math.min(TILE_WIDTH, result.checkpoint.size);
  const bundle = await read(entryBundlePath({ index: 0, width }));
  try {
    if (bundle !== undefined) first.onEntry(new ReceiptChain().replay(decodeEntryBundle(bundle, width)[0]!));
  } catch {
    // Replaced since it verified (a partial bundle 0 as the log grows): no predecessor read.
  }
  return first;
}

/** Several logs as one deployment: each as above, then the successions between them and one summary. */
async function reportDeployment(c: { logs: readonly VerifiedLog[]; json: boolean; io: CommandIO }): Promise<number> {
  const logs = c.logs.map((l) => ({
    location: l.run.location,
    read: l.run.read,
    checkpoint: l.result.checkpoint,
    ok: l.result.ok,
    predecessor: l.predecessor,
    finding: l.result.defects[0] && defectLine(l.result.defects[0]).replace(/^✗ /, ''),
    json: verificationJson(l),
  }));
  const findings = await deploymentFindings(logs);
  if (!c.json) return printDeployment({ logs, findings, io: c.io });
  c.io.out(JSON.stringify(deploymentJson(logs, findings), null, 2));
  return logs.every((l) => l.ok) && findings.length === 0 ? EXIT.ok : EXIT.finding;
}

function verificationJson(c: { result: LogVerification; anchors: AnchorSummary | undefined; entries: EntryFileComparison | undefined }): unknown {
  const { result } = c;
  const entriesFile = c.entries && { matched: c.entries.matched, unpublished: c.entries.unpublished, tornBytes: c.entries.tornBytes };
  return { ...result, checkpoint: result.checkpoint && { ...result.checkpoint, root: toHex(result.checkpoint.root) }, anchors: c.anchors, entriesFile };
}

function report(c: { run: VerifyRun; result: LogVerification; anchors: AnchorSummary | undefined; entries: EntryFileComparison | undefined; seconds: number; json: boolean; io: CommandIO }): void {
  const { result, io } = c;
  if (c.json) io.out(JSON.stringify(verificationJson(c), null, 2));
  else if (result.ok) printVerified({ run: c.run, checkpoint: result.checkpoint!, seconds: c.seconds, anchors: c.anchors, io });
  else for (const d of result.defects) io.err(defectLine(d));
  if (!c.json && result.ok && c.entries) io.out(entriesLine(c.entries));
}

/**
 * A log folder (not a URL or bucket) holds the server's entries file, which the published files are derived
 * from: its published frames must be the published entries (issue 15). Skipped when there is none (a copy of
 * the published files only).
 */
async function checkEntryFile(run: VerifyRun, size: number): Promise<EntryFileComparison | undefined> {
  if (/^[a-z]+:\/\//.test(run.location)) return undefined;
  const path = join(run.location, 'entries');
  if (!(await stat(path).then((s) => s.isFile(), () => false))) return undefined;
  return compareEntryFile(path, { size, read: run.read });
}

function entriesLine(e: EntryFileComparison): string {
  const more = [e.unpublished ? `${e.unpublished} more not yet published` : '', e.tornBytes ? `${e.tornBytes} bytes of an unfinished write at the end (cut off at the next start)` : ''].filter(Boolean);
  return `  entries file: its ${e.matched} published entries match the tiles and bundles byte for byte${more.length ? `; ${more.join('; ')}` : ''}`;
}

async function verifyRunOf(location: string, values: LogOptionValues): Promise<VerifyRun> {
  const against = stringOption(values, 'anchored-against');
  const gcsEndpoint = stringOption(values, 'gcs-endpoint');
  if (against !== undefined && !against.startsWith('gs://')) throw new UsageError(`--anchored-against: expected gs://BUCKET/PREFIX, got ${JSON.stringify(against)}`);
  if (against !== undefined && location.startsWith('gs://')) throw new UsageError('--anchored-against checks a folder or URL against its bucket; a gs:// log is verified with its anchors already');
  const bucketUrl = location.startsWith('gs://') ? location : against;
  if (gcsEndpoint !== undefined && bucketUrl === undefined) throw new UsageError('--gcs-endpoint is for a gs:// log or --anchored-against');
  const bucket = bucketUrl === undefined ? undefined : gcsBucket(bucketUrl, gcsEndpoint);
  const read = logReader(location, { gcsEndpoint });
  return { location, bucket, read, verifierKey: await verifierKeyFor(stringOption(values, 'vkey'), location, read) };
}

async function checkBucket(run: VerifyRun, result: LogVerification): Promise<{ defects: LogDefect[]; summary: AnchorSummary }> {
  const latest = result.checkpoint!;
  const checked = await checkBucketAnchors({ bucket: run.bucket!, verifierKey: run.verifierKey, own: run.location.startsWith('gs://'), latest, read: result.ok ? run.read : undefined });
  return { defects: checked.defects, summary: summarize({ location: run.bucket!.location, anchors: checked.anchors, latest, proofs: checked.proofs }) };
}

function summarize(o: { location: string; anchors: readonly Anchor[]; latest: Checkpoint; proofs: number }): AnchorSummary {
  const anchoredSize = Math.max(0, ...o.anchors.map((a) => a.checkpoint.size));
  const stored = o.anchors.map((a) => a.storedAt).filter((t) => t !== undefined);
  const lastStoredAt = stored.length ? new Date(Math.max(...stored)).toISOString() : undefined;
  return { location: o.location, checkpoints: o.anchors.length, proofs: o.proofs, anchoredSize, lagEntries: Math.max(0, o.latest.size - anchoredSize), lastStoredAt };
}

function printVerified(c: { run: VerifyRun; checkpoint: Checkpoint; seconds: number; anchors: AnchorSummary | undefined; io: CommandIO }): void {
  const { checkpoint: cp, io } = c;
  io.out(`✓ ${c.run.location}: ${cp.size} entries verified in ${c.seconds.toFixed(2)} s (${Math.round(cp.size / Math.max(c.seconds, 1e-9))}/s)`);
  io.out(`  origin ${cp.origin}, root ${toHex(cp.root)}, signed by ${keyName(c.run.verifierKey)}`);
  const a = c.anchors;
  if (!a) return;
  io.out(`  anchors in ${a.location}: ${a.checkpoints} signed checkpoints, each proven a prefix of this log (${a.proofs} consistency proofs)`);
  io.out(`  anchored ${a.anchoredSize} of ${cp.size} entries (${a.lagEntries} not yet anchored)${a.lastStoredAt ? `; last anchor stored ${a.lastStoredAt}` : ''}`);
}
