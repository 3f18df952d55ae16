// `tai audit report`: verifies a receipt log as it reads it and writes an auditor's report of it, one
// self-contained HTML page (or the same data as JSON). I/O lives here; the report is built by pure modules.
import { rename, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseVerifierKey, toHex, verifyLog, type Checkpoint, type LogDefect, type ReadLogFile } from '../../receipts/index.ts';
import { gcsBucket } from '../../server/index.ts';
import { flagsHelp, parseFlags, type FlagTable } from '../flags.ts';
import { EXIT, UsageError, stringOption, type Command, type CommandIO } from '../io.ts';
import { defectLine, keyName, LogFinding } from '../log-subcommand.ts';
import { logReader, verifierKeyFor } from '../log-source.ts';
import { anchorRecords } from './audit-anchors.ts';
import { AuditFold, type UsageRow } from '../../ledger/index.ts';
import { renderAuditHtml } from './audit-html.ts';
import { formatCount } from './audit-html-sections.ts';
import { buildAuditReport, type AuditReport } from './audit-model.ts';
import { sampleProofs } from './audit-proofs.ts';
import { scopeFilter, type AuditScope } from './audit-scope.ts';
import { mergeDeployment, type DeploymentPart } from './audit-deployment.ts';
import { deploymentFindings, deploymentLocations, firstEntryPredecessor, type DeploymentLog as VerifiedDeploymentLog } from '../log-deployment.ts';

/** audit's options, in --help order. */
const AUDIT_FLAGS = {
  from: { type: 'string', arg: 'DIR|URL|gs://…', help: [
    'the published log (a folder such as .tai/log, http(s)://HOST/log, or a bucket); more logs',
    'after it (--from LOG LOG…) make one report of a deployment (docs/audit.md)',
  ] },
  'all-origins': { type: 'boolean', help: 'every log anchored under each gs://BUCKET/PREFIX given, as one deployment' },
  since: { type: 'string', arg: 'TIME' },
  until: { type: 'string', arg: 'TIME', help: 'only entries with since ≤ time < until; RFC 3339, e.g. 2025-06-01T12:00:00Z or 2025-06-01' },
  tenant: { type: 'string', arg: 'T', help: "only this tenant's decisions, admissions, thresholds and policy changes" },
  vkey: { type: 'string', arg: 'KEY|FILE', help: [
    'the verifier key to pin (default for a folder: signing.key.pub beside it, as tai serve --log',
    "makes it); a FILE may hold one key a line, each log verified with its signer's",
  ] },
  'anchored-against': { type: 'string', arg: 'gs://BUCKET/PREFIX', help: [
    "the bucket holding this log's anchors (implied by --from gs://…): each anchored",
    'checkpoint is checked as tai log verify checks it and listed with its lag',
  ] },
  'gcs-endpoint': { type: 'string', arg: 'URL', help: "a Cloud Storage emulator instead of Google's (no credentials)" },
  out: { type: 'string', arg: 'FILE', help: 'where to write (default audit-report.html; with --json, standard output)' },
  json: { type: 'boolean', help: 'the report as JSON (format tai.audit-report/v1) instead of HTML' },
} as const satisfies FlagTable;

const USAGE = `Usage: tai audit report --from DIR|URL|gs://BUCKET/PREFIX [LOG…] [--all-origins] [--since TIME] [--until TIME] [--tenant T]
                        [--vkey KEY|FILE] [--anchored-against gs://BUCKET/PREFIX] [--gcs-endpoint URL]
                        [--out FILE] [--json]

report   verifies the receipt log as it reads it (as tai log verify: the checkpoint's signature by the pinned
         key, every entry, every hash tile, the Merkle root) and reports on it: coverage (checkpoint, root, no
         gaps, the entries in the time range), anchors, decisions and admission reviews counted by tenant,
         outcome and reason, threshold crossings, policy changes with their merge patches, governor starts
         and stops, and inclusion proofs of sampled entries, each verified. Counts are what tai log query
         prints for the same filters; long lists end with the tai log query command that lists them all.
         Writes one self-contained HTML file (print it to PDF from a browser) and prints a one-line summary;
         a log that fails verification gets no report: its defects are printed and the exit status is 1.
         Several logs (--from LOG LOG…, or --all-origins under a bucket prefix: the replicas and successive
         instances of one deployment) make one report: each log verified as above and every succession its
         first entry records checked as tai log verify checks it; counts added up, lists merged by time with
         each row's origin, and usage per counter across the logs (the highest used any log recorded).
Exit status: 0 verified and written, 1 verification failed (nothing written), 2 a usage error.
Options:
${flagsHelp(AUDIT_FLAGS, 23)}`;

/** Inclusion proofs the report samples. */
const SAMPLES = 5;
/** A progress line on stderr every this many entries, for logs that take a while. */
const PROGRESS_EVERY = 1_000_000;

interface ReportRun {
  scope: AuditScope;
  /** --all-origins: each gs:// location is a prefix whose logs are listed. */
  allOrigins: boolean;
  /** Where the anchors are: the --from bucket, or --anchored-against. */
  anchors: string | undefined;
  gcsEndpoint: string | undefined;
  out: string | undefined;
  json: boolean;
  io: CommandIO;
}

function scopeOf(values: Record<string, unknown>, more: readonly string[]): AuditScope {
  const location = stringOption(values, 'from');
  if (location === undefined && more.length > 0) throw new UsageError(`tai audit report takes no arguments (the log is --from), got ${JSON.stringify(more[0])}; the logs of a deployment follow it: --from LOG LOG…`);
  if (location === undefined || location === '') throw new UsageError('--from DIR|URL|gs://… is required: the log to report on');
  const scope: AuditScope = { location };
  if (more.length > 0 || values['all-origins'] === true) scope.locations = [location, ...more];
  for (const k of ['tenant', 'since', 'until', 'vkey'] as const) {
    const v = stringOption(values, k);
    if (v !== undefined) scope[k] = v;
  }
  if (scope.vkey !== undefined) scope.vkey = absoluteKeyFile(scope.vkey);
  return scope;
}

/** A --vkey FILE made absolute, so the commands the report prints work from any directory; a key string kept. */
function absoluteKeyFile(vkey: string): string {
  try {
    parseVerifierKey(vkey);
    return vkey;
  } catch {
    return resolve(vkey);
  }
}

/** One log verified while folded: its report, and what a deployment's report adds. */
interface ReportedLog extends VerifiedDeploymentLog {
  report: AuditReport;
  usage: UsageRow[];
  read: ReadLogFile;
}

/** Verifies the log while folding it; undefined (defects printed) when it does not verify. */
async function verifiedReport(c: ReportRun): Promise<ReportedLog | undefined> {
  const filter = scopeFilter(c.scope);
  const read = logReader(c.scope.location, { gcsEndpoint: c.gcsEndpoint });
  const verifierKey = await verifierKeyFor(c.scope.vkey, c.scope.location, read);
  const fold = new AuditFold({ filter });
  const first = firstEntryPredecessor();
  const onEntry: Parameters<typeof verifyLog>[0]['onEntry'] = (e) => {
    fold.add(e);
    first.onEntry(e);
    if ((e.index + 1) % PROGRESS_EVERY === 0) c.io.err(`  … ${formatCount(e.index + 1)} entries verified`);
  };
  const result = await verifyLog({ read, verifierKey, onEntry });
  if (!result.ok) return failed(c, result.defects);
  const checkpoint = result.checkpoint as Checkpoint;
  const anchors = c.anchors === undefined ? { records: [], defects: [] } : await anchorRecords({ bucket: gcsBucket(c.anchors, c.gcsEndpoint), verifierKey, own: c.anchors === c.scope.location, latest: checkpoint, read });
  if (anchors.defects.length > 0) return failed(c, anchors.defects);
  const samples = await sampleProofs({ read, checkpoint, samples: fold.sample(SAMPLES) });
  const report = buildAuditReport({
    scope: c.scope,
    tally: fold.tally(),
    checkpoint: { origin: checkpoint.origin, size: checkpoint.size, root: toHex(checkpoint.root) },
    signedBy: keyName(verifierKey),
    samples,
    anchors: anchors.records,
    generatedAt: new Date().toISOString(),
  });
  const usage = fold.tally().usage.map((u): UsageRow => ({ ...u, origin: checkpoint.origin }));
  return { location: c.scope.location, report, usage, read, checkpoint, ok: true, predecessor: first.predecessor() };
}

function failed(c: ReportRun, defects: readonly LogDefect[]): undefined {
  for (const d of defects) c.io.err(defectLine(d));
  c.io.err(`✗ ${c.scope.location}: verification failed: no report written`);
  return undefined;
}

/** Where the anchors are, checked as usage. */
function anchorsOf(values: Record<string, unknown>, scope: AuditScope): string | undefined {
  const against = stringOption(values, 'anchored-against');
  if (against !== undefined && !against.startsWith('gs://')) throw new UsageError(`--anchored-against: expected gs://BUCKET/PREFIX, got ${JSON.stringify(against)}`);
  if (against !== undefined && scope.locations !== undefined) throw new UsageError('--anchored-against is for one log; the logs of a deployment read from gs://… are checked against their anchors already');
  const anchors = against ?? (scope.location.startsWith('gs://') ? scope.location : undefined);
  if (anchors === undefined && values['gcs-endpoint'] !== undefined && scope.locations === undefined) throw new UsageError('--gcs-endpoint is for --from gs://… or --anchored-against');
  return anchors;
}

/**
 * Every log of the deployment verified and reported, then the successions between them checked; undefined
 * (findings printed) when any fails: a report of a deployment with a log missing would count too little.
 */
async function deploymentReport(c: ReportRun): Promise<AuditReport | undefined> {
  const locations = await deploymentLocations(c.scope.locations!, { allOrigins: c.allOrigins, gcsEndpoint: c.gcsEndpoint });
  const parts: ReportedLog[] = [];
  for (const location of locations) {
    const scope: AuditScope = { ...c.scope, location };
    delete scope.locations;
    const part = await verifiedReport({ ...c, scope, anchors: location.startsWith('gs://') ? location : undefined });
    if (part === undefined) return undefined;
    parts.push(part);
  }
  const findings = await deploymentFindings(parts);
  for (const f of findings) c.io.err(`✗ ${f.location}: ${f.message}`);
  if (findings.length > 0) return (c.io.err(`✗ ${findings.length} deployment finding${findings.length === 1 ? '' : 's'}: no report written`), undefined);
  const predecessorJson = (p: ReportedLog['predecessor']): DeploymentPart['predecessor'] => (p === undefined || 'invalid' in p ? undefined : { ...p, root: toHex(p.root) });
  return mergeDeployment(
    parts.map((p) => ({ location: p.location, report: p.report, usage: p.usage, predecessor: predecessorJson(p.predecessor) })),
    { format: parts[0]!.report.format, generatedAt: new Date().toISOString(), scope: { ...c.scope, locations } },
  );
}

/** Writes through a temporary file, so a reader never sees half a report. */
async function writeReport(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function summaryLine(r: AuditReport, c: { path: string; seconds: number }): string {
  const cov = r.coverage;
  const d = r.decisions;
  return (
    `✓ ${c.path}: ${formatCount(cov.size)} entries verified (root ${cov.root.slice(0, 16)}…); ${formatCount(d.total)} decisions (${formatCount(d.denied)} denied), ` +
    `${formatCount(r.admissions.total)} admission reviews, ${formatCount(r.thresholds.total)} threshold crossings, ${formatCount(r.policyChanges.total)} policy changes, ` +
    `${r.samples.length} inclusion proofs checked, in ${c.seconds.toFixed(2)} s`
  );
}

async function report(c: ReportRun): Promise<number> {
  const started = performance.now();
  const r = c.scope.locations === undefined ? (await verifiedReport(c))?.report : await deploymentReport(c);
  if (r === undefined) return EXIT.finding;
  const json = `${JSON.stringify(r, null, 2)}\n`;
  if (c.json && c.out === undefined) return (c.io.out(json.trimEnd()), EXIT.ok);
  const path = c.out ?? 'audit-report.html';
  await writeReport(path, c.json ? json : renderAuditHtml(r));
  c.io.out(summaryLine(r, { path, seconds: (performance.now() - started) / 1000 }));
  return EXIT.ok;
}

export const auditCommand: Command = {
  name: 'audit',
  summary: "an auditor's report of a verified receipt log, as one printable HTML page or JSON (report)",
  usage: USAGE,
  flags: AUDIT_FLAGS,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, AUDIT_FLAGS);
    if (values.help) return (io.out(USAGE), EXIT.ok);
    const [name, ...more] = positionals;
    if (name !== 'report') throw new UsageError(name === undefined ? 'expected an audit command: report' : `unknown audit command ${JSON.stringify(name)}: expected report`);
    try {
      const scope = scopeOf(values, more);
      const allOrigins = values['all-origins'] === true;
      return await report({ scope, allOrigins, anchors: anchorsOf(values, scope), gcsEndpoint: stringOption(values, 'gcs-endpoint'), out: stringOption(values, 'out'), json: values.json === true, io });
    } catch (e) {
      if (!(e instanceof LogFinding)) throw e;
      io.err(`✗ ${e.message}`);
      return EXIT.finding;
    }
  },
};
