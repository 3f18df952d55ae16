// `tai log verify` over several logs as one deployment (issue 17): the replicas' logs, or every origin anchored
// under a bucket prefix (--all-origins). Each log is verified as alone; then each succession is checked: a log
// whose first entry (a lifecycle start) names a predecessor must find that log among those given, and the
// predecessor's log must hold the checkpoint recorded (size and root): a missing log is detected, not only a
// damaged one.
import { bytesEqual, readLifecycleBody, ReceiptBodyError, toHex, type ChainedEntry, type Checkpoint, type ReadLogFile } from '../receipts/index.ts';
import { anchoredOrigins, rootAtSize, TileMissingError } from '../receipts/client/index.ts';
import { gcsBucket } from '../server/index.ts';
import { EXIT, UsageError, type CommandIO } from './io.ts';
import { LogFinding } from './log-subcommand.ts';

/** The log a log succeeds, as its first entry records it. */
export interface Predecessor {
  origin: string;
  size: number;
  root: Uint8Array;
}

/** What the succession checks need of one verified log. */
export interface DeploymentLog {
  location: string;
  read: ReadLogFile;
  /** Its signed checkpoint, when it verified. */
  checkpoint: Checkpoint | undefined;
  ok: boolean;
  /** The predecessor its first entry names; `{ invalid }` when that entry names one malformed. */
  predecessor: Predecessor | { invalid: string } | undefined;
}

/** A finding about the deployment rather than one log's bytes: a missing or mismatched predecessor, a duplicate. */
export interface DeploymentFinding {
  location: string;
  message: string;
}

/** The logs to verify: as given, or with --all-origins every origin anchored under each gs:// prefix. */
export async function deploymentLocations(args: readonly string[], o: { allOrigins: boolean; gcsEndpoint: string | undefined }): Promise<string[]> {
  if (!o.allOrigins) return [...args];
  const locations: string[] = [];
  for (const arg of args) {
    if (!arg.startsWith('gs://')) throw new UsageError(`--all-origins lists the logs anchored under a bucket prefix: expected gs://BUCKET/PREFIX, got ${JSON.stringify(arg)}`);
    const bucket = gcsBucket(arg, o.gcsEndpoint);
    const origins = await anchoredOrigins(bucket).catch((e: unknown) => {
      throw new LogFinding(`cannot list ${bucket.location}: ${(e as Error).message}`);
    });
    if (origins.length === 0) throw new LogFinding(`${bucket.location}: no log is anchored under it (no <origin>/checkpoint)`);
    locations.push(...origins.map((origin) => (origin === '' ? bucket.location : `${bucket.location}/${origin}`)));
  }
  return locations;
}

/** Watches a verification's entries for the first one's predecessor (only entry 0 can name one). */
export function firstEntryPredecessor(): { onEntry: (e: ChainedEntry) => void; predecessor: () => DeploymentLog['predecessor'] } {
  let found: DeploymentLog['predecessor'];
  return {
    onEntry: (e) => {
      if (e.index !== 0 || e.receipt.kind !== 'lifecycle' || !Object.hasOwn(e.receipt.body, 'predecessor')) return;
      const body = readLifecycleBody(e.receipt.body);
      found = body instanceof ReceiptBodyError ? { invalid: body.message } : body.predecessor;
    },
    predecessor: () => found,
  };
}

/** Every succession checked, and origins given twice. Logs that failed verification are not checked further. */
export async function deploymentFindings(logs: readonly DeploymentLog[]): Promise<DeploymentFinding[]> {
  const byOrigin = new Map<string, DeploymentLog[]>();
  for (const log of logs) if (log.checkpoint) byOrigin.set(log.checkpoint.origin, [...(byOrigin.get(log.checkpoint.origin) ?? []), log]);
  const findings: DeploymentFinding[] = [];
  for (const [origin, same] of byOrigin) {
    if (same.length > 1) findings.push({ location: same[1]!.location, message: `origin ${origin} is also the origin of ${same[0]!.location}: one log given twice, or two histories under one name (a split view)` });
  }
  for (const log of logs) {
    const message = await successionProblem(log, byOrigin);
    if (message !== undefined) findings.push({ location: log.location, message });
  }
  return findings;
}

async function successionProblem(log: DeploymentLog, byOrigin: Map<string, DeploymentLog[]>): Promise<string | undefined> {
  const p = log.predecessor;
  if (p === undefined || !log.ok) return undefined;
  if ('invalid' in p) return `entry 0 names a predecessor it cannot read: ${p.invalid}`;
  const recorded = `its predecessor ${p.origin} at ${p.size} entries (root ${toHex(p.root)})`;
  const before = byOrigin.get(p.origin)?.[0];
  if (before === undefined) return `entry 0 records ${recorded}, which is not among the logs given: a log of the deployment is missing`;
  if (!before.ok || before.checkpoint === undefined) return `entry 0 records ${recorded}, which failed verification (above)`;
  return rootProblem({ before, p, recorded });
}

/** The predecessor's log, verified, must have the recorded root at the recorded size. */
async function rootProblem(c: { before: DeploymentLog; p: Predecessor; recorded: string }): Promise<string | undefined> {
  const { before, p, recorded } = c;
  const size = before.checkpoint!.size;
  if (size < p.size) return `entry 0 records ${recorded}, but ${before.location} holds only ${size} entries: the predecessor's log lost entries`;
  const root = await rootAtSize(before.read, p.size, size).catch((e: unknown) => {
    if (e instanceof TileMissingError) return undefined;
    throw e;
  });
  if (root === undefined) return `entry 0 records ${recorded}, but ${before.location} has no hash tiles for that size`;
  if (!bytesEqual(root, p.root)) return `entry 0 records ${recorded}, but ${before.location} has root ${toHex(root)} at that size: the predecessor's log is not the one succeeded (rewritten, or another log under its name)`;
  return undefined;
}

/** One line per log, then the deployment's findings and a total; exit 1 when any log or succession fails. */
export function printDeployment(c: { logs: readonly (DeploymentLog & { finding?: string | undefined })[]; findings: readonly DeploymentFinding[]; io: CommandIO }): number {
  const { io } = c;
  const failed = c.logs.filter((l) => !l.ok).length;
  const successions = c.logs.filter((l) => l.predecessor !== undefined).length;
  io.out(`deployment: ${c.logs.length} logs, ${c.logs.length - failed} verified; ${successions} succession${successions === 1 ? '' : 's'} recorded`);
  for (const log of c.logs) io.out(`  ${logLine(log)}`);
  for (const f of c.findings) io.err(`✗ ${f.location}: ${f.message}`);
  const ok = failed === 0 && c.findings.length === 0;
  if (ok) io.out(`✓ every log verified${successions ? ', every predecessor present and matching its recorded checkpoint' : ''}`);
  else io.err(`✗ ${failed} of ${c.logs.length} logs failed verification; ${c.findings.length} deployment finding${c.findings.length === 1 ? '' : 's'}`);
  return ok ? EXIT.ok : EXIT.finding;
}

function logLine(log: DeploymentLog & { finding?: string | undefined }): string {
  const cp = log.checkpoint;
  const p = log.predecessor;
  const succeeds = p === undefined ? '' : 'invalid' in p ? '; names a malformed predecessor' : `; succeeds ${p.origin} at ${p.size}`;
  if (!log.ok) return `✗ ${cp?.origin ?? '?'} (${log.location}): ${log.finding ?? 'failed verification'}`;
  return `✓ ${cp!.origin}: ${cp!.size} entries, root ${toHex(cp!.root).slice(0, 16)}… (${log.location})${succeeds}`;
}

/** The deployment as JSON: each log's checkpoint and predecessor, and the findings. */
export function deploymentJson(logs: readonly (DeploymentLog & { json: unknown })[], findings: readonly DeploymentFinding[]): unknown {
  const ok = logs.every((l) => l.ok) && findings.length === 0;
  const predecessorJson = (p: DeploymentLog['predecessor']): unknown => (p === undefined || 'invalid' in p ? p : { ...p, root: toHex(p.root) });
  return { ok, logs: logs.map((l) => ({ location: l.location, ...(l.json as object), predecessor: predecessorJson(l.predecessor) })), findings };
}
