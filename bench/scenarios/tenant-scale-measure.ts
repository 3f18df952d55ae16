import { PolicyCompiler, type PolicySnapshot } from '../../governor/index.ts';
import { BENCH_NOW, PLAIN_TENANT, SELECTED_TENANT, population, rareSku, tenantAt, type Population } from '../fixtures/population.ts';
import { median, sampleMs, settledHeap } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

/** The baseline: a plain Map of N small objects, the least any tenant index can cost. */
function plainMap(n: number): Map<string, { name: string; sku: string; suspended: boolean; generation: number }> {
  const m = new Map<string, { name: string; sku: string; suspended: boolean; generation: number }>();
  for (let i = 0; i < n; i++) {
    const name = `tenant-${String(i).padStart(7, '0')}`;
    m.set(name, { name, sku: 'starter', suspended: false, generation: 1 });
  }
  return m;
}

interface Baseline {
  buildMs: number;
  bytesPerEntry: number;
}

function baseline(n: number): Baseline {
  const buildMs = median(sampleMs(5, () => void plainMap(n).size));
  const before = settledHeap();
  const kept = plainMap(n);
  const bytesPerEntry = (settledHeap() - before) / n;
  if (kept.size !== n) throw new Error('plain Map lost entries');
  return { buildMs, bytesPerEntry };
}

function compileAll(p: Population): PolicyCompiler {
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [...p.skus, ...p.tenants, ...p.quotas] }, BENCH_NOW);
  return compiler;
}

function assertCompiled(snapshot: PolicySnapshot, n: number): void {
  const broken = [...snapshot.statuses].filter(([, s]) => !s.ready);
  if (snapshot.tenants.size !== n || broken.length > 0) {
    throw new Error(`compiled ${snapshot.tenants.size} of ${n} tenants; not ready: ${broken.slice(0, 3).map(([k, s]) => `${k} ${s.message}`).join('; ')}`);
  }
}

/** Untimed changes before the timed ones, so the recompile path is optimised (steady state). */
const CHANGE_WARMUP = 5;

/** One-change recompiles: `change(k)` makes the k-th change; returns each timed one's ms. */
function changeMs(compiler: PolicyCompiler, runs: number, change: (k: number) => Parameters<PolicyCompiler['apply']>[0]): number[] {
  for (let k = 0; k < CHANGE_WARMUP; k++) compiler.apply(change(k), BENCH_NOW);
  return sampleMs(runs, (k) => void compiler.apply(change(CHANGE_WARMUP + k), BENCH_NOW));
}

/** The k-th change to tenant `index`: its max-projects override toggles and its generation goes up. */
const tenantChange = (index: number) => (k: number): Parameters<PolicyCompiler['apply']>[0] => {
  const t = tenantAt(index);
  const changed = { ...t, metadata: { ...t.metadata, generation: k + 2 }, spec: { ...t.spec, overrides: { features: { 'max-projects': 4 + (k % 2) } } } };
  return { upsert: [changed] };
};

const skuChange = (k: number): Parameters<PolicyCompiler['apply']>[0] => ({ upsert: [rareSku(76 + (k % 2), k + 2)] });

/** How many tenants are on the rare SKU (tenant i with i % 1000 === 7). */
const rareTenants = (n: number): string => {
  const k = Math.ceil((n - 7) / 1000);
  return `${k} tenant${k === 1 ? '' : 's'}`;
};

export function tenantScaleFigures(n: number, preset: Preset, log: (line: string) => void): Figure[] {
  log('baseline: plain Map of N small objects');
  const base = baseline(n);
  // Compile a small policy a few times first, so optimised code and module state are not counted as tenant heap.
  const warm = population(Math.min(n, 1000));
  for (let w = 0; w < 5; w++) compileAll(warm);
  const heapBefore = settledHeap();
  const p = population(n);
  const heapInputs = settledHeap();
  const runs = preset.compileRuns(n);
  log(`full compile × ${runs}`);
  let compiler = new PolicyCompiler();
  const compileSamples = sampleMs(runs, () => {
    compiler = new PolicyCompiler(); // the previous one becomes garbage before the timed compile
    globalThis.gc?.();
    compiler = compileAll(p);
  });
  assertCompiled(compiler.snapshot, n);
  const heapCompiled = settledHeap();
  log(`one-change recompiles × ${preset.changeRuns} each`);
  const oneTenant = changeMs(compiler, preset.changeRuns, tenantChange(PLAIN_TENANT));
  const oneSelected = changeMs(compiler, preset.changeRuns, tenantChange(SELECTED_TENANT));
  const oneSku = changeMs(compiler, preset.changeRuns, skuChange);

  const common = { scenario: 'tenant-scale', tenants: n };
  const mapBuild = { name: `build plain Map of ${n} small objects`, value: base.buildMs };
  // design §10 states its tenant targets at 100 000 tenants; the other sizes show how the figures scale.
  const atDesignScale = n === 100_000;
  const heapTarget = atDesignScale ? ({ op: '<=', value: 1024, unit: 'B/tenant', source: 'design §10: 100 000 tenants in ≤ 1 KiB of heap each' } as const) : undefined;
  const changeTarget = atDesignScale ? ({ op: '<=', value: 1, unit: 'ms', source: 'design §10: with 100 000 tenants, one change ≤ 1 ms' } as const) : undefined;
  const compileTarget = atDesignScale ? ({ op: '<=', value: 2000, unit: 'ms', source: 'design §10: 100 000 tenants ≤ 2 s' } as const) : undefined;
  return [
    figureOf({ ...common, name: 'full compile', value: median(compileSamples), unit: 'ms', baseline: mapBuild, target: compileTarget, samples: compileSamples, note: `median of ${runs}` }),
    figureOf({
      ...common, name: 'heap per tenant (inputs + compiler + snapshot)', value: (heapCompiled - heapBefore) / n, unit: 'B/tenant',
      baseline: { name: 'plain Map entry', value: base.bytesPerEntry }, target: heapTarget,
      note: `of which the Tenant/SKU/Quota objects themselves: ${Math.round((heapInputs - heapBefore) / n)} B/tenant`,
    }),
    figureOf({ ...common, name: 'heap per tenant (compiler + snapshot only)', value: (heapCompiled - heapInputs) / n, unit: 'B/tenant', baseline: { name: 'plain Map entry', value: base.bytesPerEntry } }),
    figureOf({ ...common, name: 'one change: a plain tenant', value: median(oneTenant), unit: 'ms', baseline: mapBuild, target: changeTarget, samples: oneTenant, note: `median of ${oneTenant.length} after ${CHANGE_WARMUP} untimed` }),
    figureOf({
      ...common, name: 'one change: a tenant a selector Quota selects', value: median(oneSelected), unit: 'ms', baseline: mapBuild, target: changeTarget,
      samples: oneSelected, note: `median of ${oneSelected.length} after ${CHANGE_WARMUP} untimed; the tenant is labelled tai.dev/trial, selected by Quota/trial-builds`,
    }),
    figureOf({
      ...common, name: `one change: SKU on ${rareTenants(n)}`, value: median(oneSku), unit: 'ms', baseline: mapBuild, target: changeTarget, samples: oneSku,
      note: `median of ${oneSku.length} after ${CHANGE_WARMUP} untimed`,
    }),
  ];
}
