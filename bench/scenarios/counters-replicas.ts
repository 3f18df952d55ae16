/**
 * Part 2 of the counters scenario: 1 against 2 `tai serve --counters` replicas sharing one redis-server, with
 * an in-process `tai serve` as the floor, on a machine of 2 cores where nothing is pinned — so the figures are
 * where the cores went: each process's CPU (/proc for the servers, process.cpuUsage in the load generators) in
 * cores used over the run, and CPU per decision for all of them together. The load is two autocannon processes
 * of 25 connections each, both on the one server or one on each replica, so the generator's own cost is the
 * same in every configuration. All the decisions count on one tenant's one counter: a single hot key.
 */
import { availableParallelism } from 'node:os';
import type { RedisServer } from '../../test/support/redis-server.ts';
import type { ChildServer } from '../child-server.ts';
import type { CannonResult } from '../load/cannon.ts';
import { runCannon } from '../load/run-cannon.ts';
import { figureOf, type Figure } from '../types.ts';
import { assertCounts, CONSUME, cpuPerDecision, failedCalls, measured, medianOf, roundRatios, type CountersRun, type Measured, type Watched } from './counters-cost.ts';

/** A configuration: the servers the two load generators aim at (the same one twice for a single server). */
interface Setup {
  name: string;
  servers: readonly ChildServer[];
  shared: boolean;
}

const LOCAL = 'in-process, 1 tai serve';
const ONE = '--counters, 1 replica';
const TWO = '--counters, 2 replicas';

export async function replicasPart(run: CountersRun, b: ChildServer): Promise<Figure[]> {
  const { redis, plan, log, local, shared: a } = run;
  const setups: Setup[] = [
    { name: LOCAL, servers: [local], shared: false },
    { name: ONE, servers: [a], shared: true },
    { name: TWO, servers: [a, b], shared: true },
  ];
  log(`counters: 1 vs 2 replicas on one redis-server, ${plan.runs} rounds of ${plan.seconds} s runs; nothing pinned (${availableParallelism()} CPUs)`);
  await assertCounts(b.url);
  await runCannon({ url: `${b.url}/v1/consume`, method: 'POST', body: CONSUME, connections: 25, duration: 1 }, 'any'); // warm-up: optimised code
  const samples = new Map<string, Measured[]>();
  for (let r = 0; r < plan.runs; r++) {
    for (const s of setups) samples.set(s.name, [...(samples.get(s.name) ?? []), await measured(() => load(s, plan.seconds), watched(s, redis), redis)]);
    log(`counters: replicas round ${r + 1}/${plan.runs} done`);
  }
  return figures(samples, { seconds: plan.seconds, note: `${plan.runs} runs of ${plan.seconds} s; two autocannon processes of 25 connections; nothing pinned` });
}

/** Two load generators at once, 25 connections each: both on a single server, or one per replica. */
function load(s: Setup, duration: number): Promise<CannonResult[]> {
  const urls = s.servers.length === 1 ? [s.servers[0]!.url, s.servers[0]!.url] : s.servers.map((x) => x.url);
  return Promise.all(urls.map((url) => runCannon({ url: `${url}/v1/consume`, method: 'POST', body: CONSUME, connections: 25, duration }, 'any')));
}

const replicaLabel = (i: number): string => `tai serve ${String.fromCharCode(65 + i)}`;

function watched(s: Setup, redis: RedisServer): Watched[] {
  const out: Watched[] = s.servers.map((x, i) => ({ label: replicaLabel(i), pid: x.child.pid!, url: x.url }));
  if (s.shared) out.push({ label: 'redis-server', pid: redis.pid });
  return out;
}

function figures(samples: Map<string, Measured[]>, o: { seconds: number; note: string }): Figure[] {
  const failed = [failedCalls(samples.get(ONE)!), failedCalls(samples.get(TWO)!)].map((f, i) => f && `${[ONE, TWO][i]}: ${f}`);
  const common = { scenario: 'counters', tenants: 7, note: [o.note, ...failed].filter(Boolean).join('; ') };
  const rps = (name: string): number => medianOf(samples.get(name)!, (m) => m.requestsPerSecond, 0);
  const throughput = (name: string, baseline: string): Figure =>
    figureOf({ ...common, name: `${name}: throughput`, value: rps(name), unit: 'req/s', baseline: { name: baseline, value: rps(baseline) }, samples: samples.get(name)!.map((m) => m.requestsPerSecond), note: `${common.note}; ${roundRatios(samples.get(name)!, samples.get(baseline)!, (m) => m.requestsPerSecond)}` });
  // The servers' CPU per decision: every tai serve and redis-server, not the load generators nor the rest.
  const servers = (m: Measured): number => (Object.entries(m.cost.cpuMs).reduce((sum, [label, ms]) => sum + (label === 'load generator' || label === 'everything else' ? 0 : ms), 0) * 1000) / m.requests;
  const out: Figure[] = [
    throughput(ONE, LOCAL),
    throughput(TWO, ONE),
  ];
  for (const name of [ONE, TWO]) out.push(figureOf({ ...common, name: `${name}: CPU per decision, tai serve + redis-server`, value: medianOf(samples.get(name)!, servers, 1), unit: 'µs', baseline: { name: LOCAL, value: medianOf(samples.get(LOCAL)!, servers, 1) } }));
  for (const [name, ms] of samples) out.push(...coreFigures(name, ms, { ...common, seconds: o.seconds }));
  return out;
}

/**
 * Cores each process kept busy over the run (CPU time ÷ the load's duration; for everything else, ÷ the whole
 * window's), against the machine's cores.
 */
function coreFigures(name: string, ms: readonly Measured[], c: { scenario: string; tenants: number; note: string; seconds: number }): Figure[] {
  const { seconds, ...common } = c;
  const machine = { name: `the machine: ${availableParallelism()} CPUs`, value: availableParallelism() };
  return Object.keys(ms[0]!.cost.cpuMs).map((label) => {
    const cores = (m: Measured): number => (m.cost.cpuMs[label] ?? 0) / (label === 'everything else' ? m.cost.wallMs : seconds * 1000);
    return figureOf({ ...common, name: `${name}: CPU of ${label}`, value: medianOf(ms, cores, 2), unit: 'cores', baseline: machine, samples: ms.map((m) => Number(cores(m).toFixed(3))), note: label === 'everything else' ? `${common.note}; other processes and the kernel, over the whole window` : `${common.note}; ${medianOf(ms, cpuPerDecision(label), 1)} µs per decision` });
  });
}
