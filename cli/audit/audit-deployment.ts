// The report of a deployment: several logs (replicas, successive Cloud Run instances), each verified and
// reported as alone, merged into one report. Counts add up; listed rows (threshold crossings, policy changes,
// starts and stops, proofs, anchors) name their log's origin and are merged by time; usage per counter takes
// the highest `used` any log recorded (usage-tally.ts). Pure.
import type { AnchorRecord, AuditReport, CappedList, CountRow, DeploymentLog, OutcomeBreakdown } from './audit-model.ts';
import { CHANGE_LIMIT, LIST_LIMIT, countRows, mergeUsage, type OutcomeCounts, type UsageRow } from '../../ledger/index.ts';
import { queryCommand, reconcileQuery, type AuditScope } from './audit-scope.ts';

/** One log's own report, with what the deployment adds: where it was read, its predecessor, its usage rows. */
export interface DeploymentPart {
  location: string;
  report: AuditReport;
  usage: UsageRow[];
  predecessor?: DeploymentLog['predecessor'];
}

/**
 * The merged report; `base` gives the format, scope (with `locations`) and time. Its query commands read one
 * log: `LOG` stands for each in turn.
 */
export function mergeDeployment(parts: readonly DeploymentPart[], base: Pick<AuditReport, 'format' | 'generatedAt' | 'scope'>): AuditReport {
  const each: AuditScope = { ...base.scope, location: 'LOG' };
  delete each.locations;
  const reports = parts.map((p) => p.report);
  const tagged = <T extends object>(r: AuditReport, rows: readonly T[]): (T & { origin: string })[] => rows.map((row) => ({ ...row, origin: r.coverage.origin }));
  const byTime = <T extends { time: string; origin?: string }>(rows: T[]): T[] => rows.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : (a.origin ?? '') < (b.origin ?? '') ? -1 : 1));
  // Each log's first rows by time hold the deployment's first rows by time: merged, then cut as one log's are.
  const list = <T extends { time: string; origin?: string }>(pick: (r: AuditReport) => CappedList<T>, query: string, limit = LIST_LIMIT): CappedList<T> => {
    return { total: sum(reports.map((r) => pick(r).total)), shown: byTime(reports.flatMap((r) => tagged(r, pick(r).shown))).slice(0, limit), query };
  };
  const times = reports.map((r) => r.coverage.range).filter((g) => g.firstTime !== null);
  return {
    ...base,
    coverage: {
      origin: `deployment of ${parts.length} logs`,
      size: sum(reports.map((r) => r.coverage.size)),
      root: '',
      signedBy: [...new Set(reports.map((r) => r.coverage.signedBy))].join(', '),
      rootVerified: reports.every((r) => r.coverage.rootVerified),
      contiguous: reports.every((r) => r.coverage.contiguous),
      range: { first: null, last: null, entries: sum(reports.map((r) => r.coverage.range.entries)), firstTime: minOf(times.map((g) => g.firstTime!)), lastTime: maxOf(times.map((g) => g.lastTime!)) },
    },
    anchors: reports.flatMap((r) => tagged<AnchorRecord>(r, r.anchors)),
    decisions: outcomes(reports.map((r) => r.decisions), queryCommand(each, 'decision')),
    admissions: outcomes(reports.map((r) => r.admissions), queryCommand(each, 'admission')),
    thresholds: list((r) => r.thresholds, queryCommand(each, 'threshold')),
    policyChanges: list((r) => r.policyChanges, reconcileQuery(each), CHANGE_LIMIT),
    lifecycle: list((r) => r.lifecycle, queryCommand(each, 'lifecycle')),
    samples: reports.flatMap((r) => tagged(r, r.samples)),
    deployment: {
      logs: parts.map((p) => ({ ...p.report.coverage, location: p.location, ...(p.predecessor && { predecessor: p.predecessor }) })),
      usage: mergeUsage(parts.map((p) => p.usage)),
    },
  };
}

const sum = (ns: readonly number[]): number => ns.reduce((a, b) => a + b, 0);
const minOf = (xs: readonly string[]): string | null => (xs.length === 0 ? null : xs.reduce((a, b) => (b < a ? b : a)));
const maxOf = (xs: readonly string[]): string | null => (xs.length === 0 ? null : xs.reduce((a, b) => (b > a ? b : a)));

function outcomes(parts: readonly OutcomeBreakdown[], query: string): OutcomeBreakdown {
  const merged: OutcomeBreakdown = {
    total: sum(parts.map((p) => p.total)),
    allowed: sum(parts.map((p) => p.allowed)),
    denied: sum(parts.map((p) => p.denied)),
    byTenant: rows(parts.flatMap((p) => p.byTenant)),
    byReason: rows(parts.flatMap((p) => p.byReason)),
    query,
  };
  const peeks = parts.flatMap((p) => (p.peeks === undefined ? [] : [p.peeks]));
  if (peeks.length > 0) merged.peeks = { total: sum(peeks.map((p) => p.total)), allowed: sum(peeks.map((p) => p.allowed)), denied: sum(peeks.map((p) => p.denied)) };
  const unknown = parts.flatMap((p) => p.unknownTenants ?? []);
  if (unknown.length > 0) merged.unknownTenants = rows(unknown);
  return merged;
}

/** Rows with the same key added up; largest total first, ties by key (no key last), as outcome-tally.ts orders them. */
function rows(all: readonly CountRow[]): CountRow[] {
  const by = new Map<string | null, OutcomeCounts>();
  for (const r of all) {
    const seen = by.get(r.key);
    if (seen === undefined) by.set(r.key, { total: r.total, allowed: r.allowed, denied: r.denied });
    else Object.assign(seen, { total: seen.total + r.total, allowed: seen.allowed + r.allowed, denied: seen.denied + r.denied });
  }
  return countRows(by);
}
