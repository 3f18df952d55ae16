/**
 * The decision API over HTTP (design §10): a real `tai serve` (embedded mode, receipts on, durability sync and
 * async) against a bare node:http server answering a fixed JSON decision, each on CPU 1 while autocannon runs on
 * CPU 0. Two measurements: throughput at saturation (autocannon, 50 and 100 connections: requests/s, p50, p99),
 * and latency at a fixed offered load of 5 000 requests/s paced evenly (bench/load/paced.ts: autocannon's
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

const RATE = 5000;
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
}
type Samples = Map<string, CannonResult[]>;


const DECISIONS = [
  { op: 'check', body: { tenant: 'bench-co', feature: 'max-projects' } },
  { op: 'consume', body: { tenant: 'bench-co', metric: 'api-calls', amount: 1 } },
] as const;
const BARE = 'bare node:http, fixed JSON';

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
    }
    log(`decision-http: ${targets.length} servers, ${plan.runs} rounds of ${plan.seconds} s runs; server ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}`);
    for (const t of targets) await runCannon({ url: t.url, method: 'POST', body: t.body, connections: 50, duration: 1 }); // warm-up: optimised code
    const saturation = new Map<number, Samples>(CONNECTIONS.map((c) => [c, new Map()]));
    const fixedRate: Samples = new Map();
    const delays: Delays = new Map();
    for (let r = 0; r < plan.runs; r++) {
      for (const c of CONNECTIONS) await round(targets, saturation.get(c)!, { connections: c, duration: plan.seconds, delays });
      for (const t of targets) record(fixedRate, t.name, await watched(t, delays, `${RATE} req/s`, () => runPaced({ url: t.url, body: t.body, rate: RATE, duration: plan.seconds, connections: 50 })));
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

function figures(saturation: Map<number, Samples>, fixedRate: Samples, o: { note: string; floor: { p50: number; p99: number } }): Figure[] {
  const out: Figure[] = [];
  for (const [connections, samples] of saturation) out.push(...saturationFigures(samples, connections, o.note));
  out.push(...fixedRateFigures(fixedRate, `${o.note}; fdatasync here (the floor under a sync answer): p50 ${o.floor.p50} ms, p99 ${o.floor.p99} ms`));
  return out;
}

function saturationFigures(samples: Samples, connections: number, note: string): Figure[] {
  const bare = samples.get(BARE)!;
  const bareRps = medianOf(bare, (r) => r.requestsPerSecond);
  const common = { scenario: 'decision-http', tenants: 7, note };
  const out: Figure[] = [];
  for (const [name, rs] of samples) {
    if (name === BARE) continue;
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

function fixedRateFigures(samples: Samples, note: string): Figure[] {
  const bare = samples.get(BARE)!;
  const common = { scenario: 'decision-http', tenants: 7, unit: 'ms', note: `${RATE} requests/s offered evenly (bench/load/paced.ts) over 50 keep-alive connections; ${note}` };
  const target: Target = { op: '<=', value: 2, unit: 'ms', source: `design §10: p99 ≤ 2 ms at ${RATE} req/s` };
  const out: Figure[] = [];
  for (const [name, rs] of samples) {
    if (name === BARE) continue;
    out.push(
      figureOf({ ...common, name: `${name} at ${RATE} req/s: p50`, value: medianOf(rs, (r) => r.latencyMs.p50), baseline: { name: `${BARE} at ${RATE} req/s`, value: medianOf(bare, (r) => r.latencyMs.p50) }, samples: rs.map((r) => r.latencyMs.p50) }),
      figureOf({ ...common, name: `${name} at ${RATE} req/s: p90`, value: medianOf(rs, (r) => r.latencyMs.p90), baseline: { name: `${BARE} at ${RATE} req/s`, value: medianOf(bare, (r) => r.latencyMs.p90) }, samples: rs.map((r) => r.latencyMs.p90) }),
      figureOf({ ...common, name: `${name} at ${RATE} req/s: p99`, value: medianOf(rs, (r) => r.latencyMs.p99), baseline: { name: `${BARE} at ${RATE} req/s`, value: medianOf(bare, (r) => r.latencyMs.p99) }, samples: rs.map((r) => r.latencyMs.p99), target }),
    );
  }
  return out;
}
