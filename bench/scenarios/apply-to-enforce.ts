/**
 * `kubectl apply` → enforced, through a real kube-apiserver: a control plane of its own (hack/cluster-up.sh),
 * the operator (`tai serve --kubeconfig`), and N changes of an SKU limit, each timed from sending the change
 * to the governor serving the new limit. Baseline: a bare watch on the same collection receiving the same change —
 * the floor any informer stands on. Design §10: p99 ≤ 1 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { measureApplyToEnforce } from '../../test/support/apply-to-enforce.ts';
import { clusterDown, clusterUp, kubectl } from '../../test/support/cluster.ts';
import { installTai, startOperator } from '../../test/support/operator.ts';
import { stopServe } from '../../test/support/served.ts';
import { median, percentile } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

export async function applyToEnforceScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const changes = preset.name === 'full' ? 500 : 100;
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-cluster-'));
  log('apply-to-enforce: starting a control plane of its own');
  const cluster = await clusterUp(dir);
  try {
    await installTai(cluster);
    const plan = { apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'metered' }, spec: { quotas: { 'api-calls': { limit: 1 } } } };
    const tenant = { apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'meter-co' }, spec: { sku: 'metered' } };
    const applied = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [plan, tenant] }));
    if (applied.code !== 0) throw new Error(applied.stderr);
    const op = await startOperator(cluster.kubeconfig, { identity: 'bench', leaseSeconds: 15 });
    const watched = new Map<number, number>();
    const watch = await cluster.api.watch('/apis/tai.dev/v1alpha1/skus', {}, (e) => {
      const limit = (e.object.spec as { quotas?: Record<string, { limit: number }> } | undefined)?.quotas?.['api-calls']?.limit;
      if (limit !== undefined && !watched.has(limit)) watched.set(limit, performance.now());
    }, () => undefined);
    try {
      log(`apply-to-enforce: ${changes} SKU changes against ${op.url}`);
      const m = await measureApplyToEnforce(cluster.api, { url: op.url, sku: 'metered', tenant: 'meter-co', metric: 'api-calls', changes, firstLimit: 1000, watched });
      return figures(m, changes);
    } finally {
      watch.abort();
      await stopServe(op);
    }
  } finally {
    await clusterDown(cluster.dir, true);
    await rm(dir, { recursive: true, force: true });
  }
}

function figures(m: Awaited<ReturnType<typeof measureApplyToEnforce>>, changes: number): Figure[] {
  const floorP99 = percentile(m.floorMs, 99);
  const target = { op: '<=', value: 1000, unit: 'ms', source: 'design §10: kubectl apply → enforced ≤ 1 s at p99' } as const;
  const common = { scenario: 'apply-to-enforce', tenants: 1, unit: 'ms', note: `${changes} SKU limit changes through a local kube-apiserver` };
  return [
    figureOf({ ...common, name: 'apply → enforced, p50', value: m.p50, baseline: { name: 'a bare watch receiving the change, p50', value: median(m.floorMs) }, samples: m.latenciesMs }),
    figureOf({ ...common, name: 'apply → enforced, p99', value: m.p99, baseline: { name: 'a bare watch receiving the change, p99', value: floorP99 }, target }),
  ];
}
