// What an audit report covers (the log, a time range, a tenant) and the exact `tai log query` commands that
// list what the report only counts or samples. Pure.
import { tenantResource } from '../../ledger/index.ts';
import type { ReceiptKind } from '../../receipts/index.ts';
import { parseQueryFilter, type QueryFilter } from '../log-query.ts';

/** The report's scope as the user gave it: flags are kept verbatim so the printed commands repeat them. */
export interface AuditScope {
  /** The log: a folder, an http(s) URL or gs://BUCKET/PREFIX. */
  location: string;
  /** A deployment's report: every log given (location is the first), or the gs:// prefixes with --all-origins. */
  locations?: string[];
  tenant?: string;
  /** RFC 3339, inclusive. */
  since?: string;
  /** RFC 3339, exclusive. */
  until?: string;
  /** The --vkey given, repeated in the commands (a URL needs it). */
  vkey?: string;
}

/** The tenant and time conditions of `scope`, parsed as `tai log query` parses them (UsageError when bad). */
export function scopeFilter(scope: AuditScope): QueryFilter {
  return parseQueryFilter({ tenant: scope.tenant, since: scope.since, until: scope.until });
}

export { tenantResource } from '../../ledger/index.ts';

const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * One word for a POSIX shell: kept when it has no special characters, else single-quoted.
 *
 * @example shellQuote(`Acme, "Intl" Ltd`) // `'Acme, "Intl" Ltd'`
 */
export function shellQuote(word: string): string {
  return PLAIN.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

function flag(name: string, value: string | undefined): string[] {
  return value === undefined ? [] : [`--${name}`, shellQuote(value)];
}

/**
 * The `tai log query` command that lists every entry of `kind` in scope; `extra` adds flags (e.g. an outcome).
 * Receipts without a tenant field (reconcile, lifecycle) take only the time range; see {@link reconcileQuery}.
 */
export function queryCommand(scope: AuditScope, kind: ReceiptKind, extra: string[] = []): string {
  const tenant = kind === 'reconcile' || kind === 'lifecycle' ? [] : flag('tenant', scope.tenant);
  const words = ['tai', 'log', 'query', shellQuote(scope.location), '--kind', kind, ...tenant, ...flag('since', scope.since), ...flag('until', scope.until)];
  return [...words, ...extra, ...flag('vkey', scope.vkey)].join(' ');
}

/** The command listing the policy changes in scope: reconcile receipts name their tenant only as a resource. */
export function reconcileQuery(scope: AuditScope): string {
  const all = queryCommand(scope, 'reconcile');
  if (scope.tenant === undefined) return all;
  return `${all} | jq -c ${shellQuote(`select(.body.resource == ${JSON.stringify(tenantResource(scope.tenant))})`)}`;
}
