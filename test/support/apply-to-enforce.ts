import { performance } from 'node:perf_hooks';
import { percentile } from '../../bench/measure.ts';
import type { KubeApi } from '../../kube/index.ts';

export interface ApplyToEnforce {
  /** Milliseconds from sending each SKU change to the API server to the governor serving the new limit. */
  latenciesMs: number[];
  /** With `watched`: milliseconds from sending each change to a bare watch receiving it (the floor). */
  floorMs: number[];
  p50: number;
  p99: number;
  max: number;
}

/**
 * Changes an SKU's quota limit `changes` times through the API server and, after each, polls the served
 * entitlements (every ms, no receipt) until the new limit is what the governor enforces.
 */
export async function measureApplyToEnforce(
  api: KubeApi,
  o: {
    url: string;
    sku: string;
    tenant: string;
    metric: string;
    changes: number;
    firstLimit: number;
    /** Filled by a bare watch the caller runs: limit → performance.now() when its event arrived. */
    watched?: ReadonlyMap<number, number>;
  },
): Promise<ApplyToEnforce> {
  const latenciesMs: number[] = [];
  const floorMs: number[] = [];
  for (let i = 0; i < o.changes; i++) {
    const limit = o.firstLimit + i;
    const start = performance.now();
    await api.request('PATCH', `/apis/tai.dev/v1alpha1/skus/${o.sku}`, { body: { spec: { quotas: { [o.metric]: { limit } } } } });
    while ((await servedLimit(o)) !== limit) {
      if (performance.now() - start > 30_000) throw new Error(`limit ${limit} not enforced 30 s after the change`);
      await new Promise((r) => setTimeout(r, 1));
    }
    latenciesMs.push(performance.now() - start);
    if (o.watched) floorMs.push(await arrival(o.watched, limit, start));
  }
  return { latenciesMs, floorMs, p50: percentile(latenciesMs, 50), p99: percentile(latenciesMs, 99), max: Math.max(...latenciesMs) };
}

async function servedLimit(o: { url: string; tenant: string; metric: string }): Promise<number | undefined> {
  const res = await fetch(`${o.url}/v1/tenants/${o.tenant}/entitlements`);
  const body = (await res.json()) as { quotas?: Record<string, { limit: number }> };
  return body.quotas?.[o.metric]?.limit;
}

async function arrival(watched: ReadonlyMap<number, number>, limit: number, start: number): Promise<number> {
  for (let waited = 0; !watched.has(limit); waited++) {
    if (waited > 30_000) throw new Error(`the watch never saw limit ${limit}`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return watched.get(limit)! - start;
}
