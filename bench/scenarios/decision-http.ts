/**
 * The decision API over HTTP (design §10): a real `tai serve` (embedded mode, receipts on, durability sync and
 * async) against a bare node:http server answering a fixed JSON decision, each on CPU 1 while autocannon runs on
 * CPU 0. Two measurements: throughput at saturation (autocannon, 50 and 100 connections: requests/s, p50, p99),
 * and latency at fixed offered loads of 5 000 and 1 000 requests/s paced evenly (bench/load/paced.ts: autocannon's
 * overallRate sends each second's quota in a burst), where queueing does not hide the server's own time.
 * Subject and baseline runs alternate, so drift in the machine hits both alike. Each server records its event
 * loop's delay (bench/load/loop-delay-probe.ts), read after every load: its max and p99 per phase, beside the
 * bare server's in the same phase (issue 19: no stall over 10 ms).
 */
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildServer, type ChildServer } from '../child-server.ts';
import { pinning } from '../cpu-pin.ts';
import type { CannonResult } from '../load/cannon.ts';
import { loopDelayFigures, recordLoopDelay, type Delays } from '../loop-delay.ts';
import { LOAD_CORE, runCannon, runPaced, SERVER_CORE } from '../load/run-cannon.ts';
import { median, percentile } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure, type Target } from '../types.ts';

/**
 * Paced loads, requests/s: issue 19's 5 000, and 1 000, a load a slower host's bare server still answers without
 * queueing (on a VM where the bare server saturates near 8 000 req/s, 5 000 paced is queueing for every server).
 */
const RATES = [5000, 1000] as const;
const CONNECTIONS = [50, 100] as const;
/** A tenant whose hard api-calls quota the bench never reaches, so every consume takes the counted path. */
export const BENCH_TENANT = `apiVersion: tai.dev/v1alpha1
kind: Tenant
metadata:
  name: bench-co
spec:
  sku: enterprise
  overrides:
    quotas: { api-calls: { limit: 1000000000000 } }
`;

interface LoadTarget {
  name: string;
  url: string;
  body: string;
  server: ChildServer;
  /** Decisions per request: BATCH for POST /v1/batch, which runs at saturation only. */
  decisions?: number;
}
type Samples = Map<string, CannonResult[]>;


const DECISIONS = [
  { op: 'check', body: { tenant: 'bench-co', feature: 'max-projects' } },
  { op: 'consume', body: { tenant: 'bench-co', metric: 'api-calls', amount: 1 } },
] as const;
const BARE = 'bare node:http, fixed JSON';
/** POST /v1/batch of BATCH decisions, half checks and half consumes (issue 19: ≥ 100 000 decisions/s on one core, receipts on). */
const BATCH = 100;
const BATCH_NAME = `batch of ${BATCH} (sync)`;
const BATCH_BODY = JSON.stringify({ decisions: Array.from({ length: BATCH }, (_, i) => ({ op: DECISIONS[i % 2]!.op, ...DECISIONS[i % 2]!.body })) });

export async function decisionHttpScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const plan = preset.name === 'full' ? { runs: 5, seconds: 5 } : { runs: 3, seconds: 2 };
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-http-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  await writeFile(join(dir, 'policy', 'bench-tenant.yaml'), BENCH_TENANT);
  const servers: ChildServer[] = [];
  try {
    const bare = await startChildServer(['bench/load/bare-server.ts', 'fixed-json'], SERVER_CORE, { loopDelay: true });
    servers.push(bare);
    const targets: LoadTarget[] = [{ name: BARE, url: `${bare.url}/`, body: JSON.stringify(DECISIONS[1].body), server: bare }];
    for (const durability of ['sync', 'async'] as const) {
      const tai = await startChildServer(['cli/tai.ts', 'serve', '--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(dir, `log-${durability}`), '--key', join(dir, 'key'), '--durability', durability], SERVER_CORE, { loopDelay: true });
      servers.push(tai);
      for (const d of DECISIONS) targets.push({ name: `${d.op} (${durability})`, url: `${tai.url}/v1/${d.op}`, body: JSON.stringify(d.body), server: tai });
      if (durability === 'sync') targets.push({ name: BATCH_NAME, url: `${tai.url}/v1/batch`, body: BATCH_BODY, server: tai, decisions: BATCH });
    }
    log(`decision-http: ${targets.length} servers, ${plan.runs} rounds of ${plan.seconds} s runs; server ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}`);
    for (const t of targets) await runCannon({ url: t.url, method: 'POST', body: t.body, connections: 50, duration: 1 }); // warm-up: optimised code
    const saturation = new Map<number, Samples>(CONNECTIONS.map((c) => [c, new Map()]));
    const fixedRate = new Map<number, Samples>(RATES.map((rate) => [rate, new Map()]));
    const delays: Delays = new Map();
    for (let r = 0; r < plan.runs; r++) {
      for (const c of CONNECTIONS) await round(targets, saturation.get(c)!, { connections: c, duration: plan.seconds, delays });
      for (const rate of RATES) await pacedRound(targets, fixedRate.get(rate)!, { rate, duration: plan.seconds, delays });
      log(`decision-http: round ${r + 1}/${plan.runs} done`);
    }
    const floor = fsyncFloor(join(dir, 'fsync-probe'));
    log(`decision-http: fdatasync of a 3 KB append here: p50 ${floor.p50} ms, p99 ${floor.p99} ms`);
    const note = `${plan.runs} runs of ${plan.seconds} s; server ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}`;
    return [...figures(saturation, fixedRate, { note, floor }), ...loopDelayFigures(delays, note, { scenario: 'decision-http', tenants: 7, bare: BARE })];
  } finally {
    for (const s of servers) await s.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * fdatasync latency of a 3 KB append (a group of ~10 receipts) on the disk the logs are on: a sync answer
 * waits for one, so its p50 and p99 are the floor under the sync figures.
 */
export function fsyncFloor(path: string): { p50: number; p99: number } {
  const fd = openSync(path, 'w');
  const group = Buffer.alloc(3000, 1);
  const ms: number[] = [];
  try {
    for (let i = 0; i < 300; i++) {
      writeSync(fd, group);
      const start = performance.now();
      fdatasyncSync(fd);
      ms.push(performance.now() - start);
    }
  } finally {
    closeSync(fd);
  }
  return { p50: Number(median(ms).toFixed(3)), p99: Number(percentile(ms, 99).toFixed(3)) };
}

/** One run against every target in turn, baseline first. */
async function round(targets: readonly LoadTarget[], samples: Samples, o: { connections: number; duration: number; delays: Delays }): Promise<void> {
  const { connections, duration } = o;
  for (const t of targets) record(samples, t.name, await watched(t, o.delays, `${connections} connections`, () => runCannon({ url: t.url, method: 'POST', body: t.body, connections, duration })));
}

/** One paced run against every one-decision target in turn, baseline first. */
async function pacedRound(targets: readonly LoadTarget[], samples: Samples, o: { rate: number; duration: number; delays: Delays }): Promise<void> {
  const { rate, duration } = o;
  for (const t of targets.filter((t) => t.decisions === undefined)) record(samples, t.name, await watched(t, o.delays, `${rate} req/s`, () => runPaced({ url: t.url, body: t.body, rate, duration, connections: 50 })));
}

/** One load with the server's event-loop delay recorded for it, under `phase`; the result checked. */
async function watched(t: LoadTarget, delays: Delays, phase: string, load: () => Promise<CannonResult>): Promise<CannonResult> {
  return recordLoopDelay(delays, { server: t.server, phase, name: t.name }, async () => checked(t, await load()));
}


/** A figure over failed requests would measure the failure path: refuse it. */
function checked(t: LoadTarget, result: CannonResult): CannonResult {
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${t.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return result;
}

function record(samples: Samples, name: string, r: CannonResult): void {
  samples.set(name, [...(samples.get(name) ?? []), r]);
}

const medianOf = (rs: readonly CannonResult[], pick: (r: CannonResult) => number): number => Number(median(rs.map(pick)).toFixed(3));

function figures(saturation: Map<number, Samples>, fixedRate: Map<number, Samples>, o: { note: string; floor: { p50: number; p99: number } }): Figure[] {
  const out: Figure[] = [];
  for (const [connections, samples] of saturation) out.push(...saturationFigures(samples, connections, o.note));
  for (const [rate, samples] of fixedRate) out.push(...fixedRateFigures(samples, { rate, note: `${o.note}; fdatasync here (the floor under a sync answer): p50 ${o.floor.p50} ms, p99 ${o.floor.p99} ms`, floor: o.floor }));
  return out;
}

function saturationFigures(samples: Samples, connections: number, note: string): Figure[] {
  const bare = samples.get(BARE)!;
  const bareRps = medianOf(bare, (r) => r.requestsPerSecond);
  const common = { scenario: 'decision-http', tenants: 7, note };
  const out: Figure[] = [];
  for (const [name, rs] of samples) {
    if (name === BARE) continue;
    if (name === BATCH_NAME) {
      out.push(batchFigure(samples, connections, note));
      continue;
    }
    // design §10: ≥ 0.7 × the bare server at saturation (50 connections), receipts on (sync).
    const target: Target | undefined = connections === 50 && name.endsWith('(sync)') ? { op: '>=', value: Math.round(0.7 * bareRps), unit: 'req/s', source: 'design §10: ≥ 0.7 × bare node:http' } : undefined;
    out.push(
      figureOf({ ...common, name: `${name}, ${connections} connections: throughput`, value: medianOf(rs, (r) => r.requestsPerSecond), unit: 'req/s', baseline: { name: `${BARE}, ${connections} connections`, value: bareRps }, samples: rs.map((r) => r.requestsPerSecond), target }),
      figureOf({ ...common, name: `${name}, ${connections} connections: p50`, value: medianOf(rs, (r) => r.latencyMs.p50), unit: 'ms', baseline: { name: BARE, value: medianOf(bare, (r) => r.latencyMs.p50) }, samples: rs.map((r) => r.latencyMs.p50) }),
      figureOf({ ...common, name: `${name}, ${connections} connections: p99`, value: medianOf(rs, (r) => r.latencyMs.p99), unit: 'ms', baseline: { name: BARE, value: medianOf(bare, (r) => r.latencyMs.p99) }, samples: rs.map((r) => r.latencyMs.p99) }),
    );
  }
  return out;
}

/** The batch's decisions/s, beside the same server's decisions/s one request each (consume, sync). */
function batchFigure(samples: Samples, connections: number, note: string): Figure {
  const rs = samples.get(BATCH_NAME)!;
  const single = medianOf(samples.get('consume (sync)')!, (r) => r.requestsPerSecond);
  const target: Target | undefined = connections === 50 ? { op: '>=', value: 100_000, unit: 'decisions/s', source: 'issue 19: /v1/batch ≥ 100 000 decisions/s on one core, with receipts' } : undefined;
  return figureOf({
    scenario: 'decision-http',
    tenants: 7,
    note: `${note}; POST /v1/batch of ${BATCH} (half check, half consume), one receipt per decision`,
    name: `${BATCH_NAME}, ${connections} connections: decisions/s`,
    value: medianOf(rs, (r) => r.requestsPerSecond * BATCH),
    unit: 'decisions/s',
    baseline: { name: `consume (sync), one decision a request, ${connections} connections`, value: single },
    samples: rs.map((r) => r.requestsPerSecond * BATCH),
    target,
  });
}

function fixedRateFigures(samples: Samples, o: { rate: number; note: string; floor: { p50: number; p99: number } }): Figure[] {
  const rate = o.rate;
  const bare = samples.get(BARE)!;
  const common = { scenario: 'decision-http', tenants: 7, unit: 'ms', note: `${rate} requests/s offered evenly (bench/load/paced.ts) over 50 keep-alive connections; ${o.note}` };
  const bareP99 = medianOf(bare, (r) => r.latencyMs.p99);
  const out: Figure[] = [];
  for (const [name, rs] of samples) {
    if (name === BARE) continue;
    // issue 19: p99 ≤ 2 × the bare server's, a sync answer may add the disk's fdatasync p99.
    const sync = name.endsWith('(sync)');
    const target: Target = { op: '<=', value: Number((2 * bareP99 + (sync ? o.floor.p99 : 0)).toFixed(3)), unit: 'ms', source: `issue 19: p99 ≤ 2 × bare node:http's at ${rate} req/s${sync ? ' + the fdatasync p99' : ''}` };
    const at = (p: 'p50' | 'p90' | 'p99' | 'p999', label: string, t?: Target): Figure =>
      figureOf({ ...common, name: `${name} at ${rate} req/s: ${label}`, value: medianOf(rs, (r) => r.latencyMs[p]), baseline: { name: `${BARE} at ${rate} req/s`, value: medianOf(bare, (r) => r.latencyMs[p]) }, samples: rs.map((r) => r.latencyMs[p]), target: t });
    out.push(at('p50', 'p50'), at('p90', 'p90'), at('p99', 'p99', target), at('p999', 'p99.9'));
  }
  return out;
}
