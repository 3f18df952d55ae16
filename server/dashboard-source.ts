import type { CompiledPolicy, CompiledTenant, Clock, ConsumeDecision, Governor, PolicyCompiler, SharedGovernor } from '../governor/index.ts';
import { quotaUsage, type DashboardSource, type QuotaUsage } from '../http/ui/dashboard-source.ts';
import type { DecisionRates } from '../http/ui/decision-rates.ts';
import type { Readiness } from '../readiness/index.ts';
import type { PolicyFeed } from './policy-feed.ts';
import { tenantHistory } from './tenant-history.ts';

export interface DashboardParts {
  compiler: PolicyCompiler;
  compiled: CompiledPolicy;
  /** The governor that decides (in process, or on shared counters): usage is read from it by a peek. */
  decider: Governor | SharedGovernor;
  feed: PolicyFeed;
  readiness: () => Readiness;
  rates: DecisionRates;
  log: () => { entries: number; checkpointAgeSeconds: number };
  /** The log folder, whose published entries the tenant page reads. */
  logDir: string;
  clock: Clock;
}

/** Rows of each history table on a tenant page. */
const HISTORY_ROWS = 20;

/** The dashboard's reading of the running server. */
export function dashboardSource(p: DashboardParts): DashboardSource {
  let names: { generation: number; sorted: readonly string[] } = { generation: -1, sorted: [] };
  return {
    readiness: p.readiness,
    policy: () => {
      const { skus, quotas } = p.compiler.resources;
      return { generation: p.compiler.snapshot.generation, source: p.readiness().source, tenants: p.compiler.snapshot.tenants.size, skus: skus.size, quotas: quotas.size };
    },
    log: p.log,
    decisions: () => p.rates.recent(p.clock.now()),
    tenantNames: () => {
      // Sorted once per snapshot: paging and search then cost only what they show.
      const snapshot = p.compiler.snapshot;
      if (names.generation !== snapshot.generation) names = { generation: snapshot.generation, sorted: [...snapshot.tenants.keys()].sort() };
      return names.sorted;
    },
    tenant: (name) => p.compiled.tenant(name, p.clock.now()),
    usage: (tenant) => usageOf(p.decider, tenant),
    problems: () => [...(p.feed.problems?.() ?? statusProblems(p.compiler))],
    history: (tenant) => tenantHistory(p.logDir, tenant, { limit: HISTORY_ROWS }),
  };
}

/** Each quota's usage by a peek (amount 0: counts nothing), on the governor itself: no receipt is recorded. */
async function usageOf(decider: Governor | SharedGovernor, tenant: CompiledTenant): Promise<QuotaUsage[]> {
  const metrics = Object.keys(tenant.quotas);
  const peeks = await Promise.all(metrics.map((metric): ConsumeDecision | Promise<ConsumeDecision> => decider.consume({ tenant: tenant.name, metric, amount: 0 })));
  return peeks.map((peek, i) => quotaUsage(tenant, metrics[i]!, peek));
}

/** Cluster mode: the resources that do not compile, from their statuses (the objects' conditions say the same). */
function statusProblems(compiler: PolicyCompiler): string[] {
  const out: string[] = [];
  for (const [key, s] of compiler.snapshot.statuses) if (!s.ready) out.push(`${key}${s.path ? ` ${s.path}` : ''}: ${s.reason}: ${s.message}`);
  return out;
}
