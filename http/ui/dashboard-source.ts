import type { CompiledTenant, ConsumeDecision } from '../../governor/index.ts';
import type { TenantView } from '../../ledger/index.ts';
import type { Readiness } from '../../readiness/index.ts';

/** What the dashboard reads, supplied by the server that assembles it (server/dashboard-source.ts). */
export interface DashboardSource {
  /** Readiness as /readyz reports it: policy, log, publishing, anchoring, counters. */
  readiness(): Readiness;
  /** The served policy's counts and where it comes from. */
  policy(): PolicySummary;
  /** Entries of the receipt log so far, and seconds since a checkpoint last covered them. */
  log(): { entries: number; checkpointAgeSeconds: number };
  /** Decisions answered per outcome in the last minutes (a point per 10 s), oldest first. */
  decisions(): DecisionRate[];
  /** The served tenants' names, sorted (a view of one snapshot: paging and search slice it). */
  tenantNames(): readonly string[];
  /** A tenant's compiled entitlements now, or undefined. */
  tenant(name: string): CompiledTenant | undefined;
  /** Each quota's usage now (a peek: counts nothing and records nothing), in the tenant's quota order. */
  usage(tenant: CompiledTenant): Promise<QuotaUsage[]>;
  /** Policy problems as `tai validate` prints them (file:line or object and field: message). */
  problems(): string[];
  /** A tenant's history from the newest published entries of the log (ledger/'s reading); undefined before any. */
  history(tenant: string): Promise<TenantHistory | undefined>;
}

export interface TenantHistory {
  view: TenantView;
  /** The entries read: [from, size) of the published log. */
  from: number;
  size: number;
}

export interface PolicySummary {
  generation: number;
  source: string;
  tenants: number;
  skus: number;
  quotas: number;
}

export interface DecisionRate {
  /** End of the 10 s interval, ms since the epoch. */
  at: number;
  allowed: number;
  denied: number;
}

export interface QuotaUsage {
  metric: string;
  used: number;
  limit: number;
  alertAt: readonly number[];
  enforcement: string;
  kind: string;
  /** RFC 3339 end of the window; null for a gauge. */
  resetsAt: string | null;
  /** Why no usage could be read (shared counters unreachable). */
  unavailable?: boolean;
}

/** Usage of one quota from a peek's answer. */
export function quotaUsage(tenant: CompiledTenant, metric: string, peek: ConsumeDecision): QuotaUsage {
  const q = tenant.quotas[metric]!;
  return {
    metric,
    used: peek.used,
    limit: q.limit,
    alertAt: q.alertAt,
    enforcement: q.enforcement,
    kind: q.kind,
    resetsAt: peek.resetsAt,
    ...(peek.reason === 'CountersUnavailable' && { unavailable: true }),
  };
}
