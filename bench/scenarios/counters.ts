/**
 * Shared counters (issue 17, design §12): what `tai serve --counters redis://…` costs a consume decision over
 * HTTP, against the same server keeping its counters in process, in the same run — and what 1 and 2 replicas
 * sharing one redis-server do with the 2 cores of this machine. A real redis-server (test/support, no
 * persistence) and real `tai serve` processes (embedded mode, durability async for both, so a fdatasync
 * does not sit on either path; each replica with its own log, key and origin).
 *
 * Part 1, one server at a time on CPU 1, autocannon and redis-server on CPU 0: POST /v1/consume at saturation
 * (50 connections) and paced at 5 000 requests/s (bench/load/paced.ts), in-process first in every round. Beside
 * the answers: the server's CPU per decision, redis-server's, the store calls per decision and their round trip
 * as tai serve timed it, and commands per socket read at redis-server (above 1: the client pipelined them).
 * Part 2 (counters-replicas.ts): the same two servers unpinned, and a second replica: 1 vs 2 replicas, with
 * every process's CPU.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, stopRedis, type RedisServer } from '../../test/support/redis-server.ts';
import type { ChildServer } from '../child-server.ts';
import { pinning, pinProcess } from '../cpu-pin.ts';
import { LOAD_CORE, runCannon, runPaced, SERVER_CORE } from '../load/run-cannon.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';
import { BENCH_TENANT } from './decision-http.ts';
import { assertCounts, CONSUME, cpuPerDecision, failedCalls, measured, medianOf, roundRatios, serve, type CountersRun, type Measured } from './counters-cost.ts';
import { replicasPart } from './counters-replicas.ts';

const RATE = 5000;
const CONNECTIONS = 50;
const IN_PROCESS = 'consume, in-process counters';
const SHARED = 'consume, --counters redis://';

export async function countersScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const plan = preset.name === 'full' ? { runs: 5, seconds: 5 } : { runs: 3, seconds: 2 };
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-counters-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  await writeFile(join(dir, 'policy', 'bench-tenant.yaml'), BENCH_TENANT);
  const redis = await startRedis();
  const servers: ChildServer[] = [];
  try {
    // redis-server beside the load generator, off the server's CPU: in part 1 the server's CPU is the one compared.
    const placement = `tai serve ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}, redis-server ${pinProcess(redis.pid, LOAD_CORE) ? `pinned to CPU ${LOAD_CORE}` : 'not pinned'}`;
    servers.push(await serve(dir, 'in-process', { core: SERVER_CORE }), await serve(dir, 'replica-a', { core: SERVER_CORE, redis }));
    const run = { redis, plan, log, local: servers[0]!, shared: servers[1]! };
    const alone = await onePart(run, placement);
    // Part 2 lets the scheduler place everything: the same two servers, and a second replica.
    for (const pid of [redis.pid, run.local.child.pid!, run.shared.child.pid!]) pinProcess(pid, 'any');
    servers.push(await serve(dir, 'replica-b', { redis }));
    return [...alone, ...(await replicasPart(run, servers[2]!))];
  } finally {
    for (const s of servers) await s.stop();
    await stopRedis(redis);
    await rm(dir, { recursive: true, force: true });
  }
}

interface Target {
  name: string;
  server: ChildServer;
}
type Samples = Map<string, Measured[]>;

async function onePart(run: CountersRun, placement: string): Promise<Figure[]> {
  const { redis, plan, log } = run;
  const targets: Target[] = [
    { name: IN_PROCESS, server: run.local },
    { name: SHARED, server: run.shared },
  ];
  log(`counters: in-process vs --counters, ${plan.runs} rounds of ${plan.seconds} s runs; ${placement}`);
  for (const t of targets) {
    await assertCounts(t.server.url);
    await runCannon({ url: `${t.server.url}/v1/consume`, method: 'POST', body: CONSUME, connections: CONNECTIONS, duration: 1 }); // warm-up: optimised code
  }
  const saturation: Samples = new Map();
  const paced: Samples = new Map();
  for (let r = 0; r < plan.runs; r++) {
    for (const t of targets) record(saturation, t.name, await measured(async () => [await runCannon({ url: `${t.server.url}/v1/consume`, method: 'POST', body: CONSUME, connections: CONNECTIONS, duration: plan.seconds })], watch(t, redis), redis));
    for (const t of targets) record(paced, t.name, await measured(async () => [await runPaced({ url: `${t.server.url}/v1/consume`, body: CONSUME, rate: RATE, duration: plan.seconds, connections: CONNECTIONS })], watch(t, redis), redis));
    log(`counters: round ${r + 1}/${plan.runs} done`);
  }
  return [...saturationFigures(saturation, `${plan.runs} runs of ${plan.seconds} s; ${placement}`), ...pacedFigures(paced, `${RATE} requests/s offered evenly over ${CONNECTIONS} connections; ${plan.runs} runs of ${plan.seconds} s; ${placement}`)];
}

const watch = (t: Target, redis: RedisServer): { label: string; pid: number; url?: string }[] => [
  { label: 'tai serve', pid: t.server.child.pid!, url: t.server.url },
  { label: 'redis-server', pid: redis.pid },
];

function record(samples: Samples, name: string, m: Measured): void {
  samples.set(name, [...(samples.get(name) ?? []), m]);
}

/** Store calls tai serve made per decision. */
const callsPerDecision = (m: Measured): number => m.cost.trips.calls / m.requests;
/** Mean round trip of a store call, in ms, as tai serve timed it (its queueing included). */
const roundTripMs = (m: Measured): number => (m.cost.trips.calls === 0 ? 0 : (m.cost.trips.seconds * 1000) / m.cost.trips.calls);
/** redis-server's CPU per script it ran, in ms: the server's own share of a round trip. */
const redisMsPerScript = (m: Measured): number => (m.cost.redis.scripts === 0 ? 0 : (m.cost.cpuMs['redis-server'] ?? 0) / m.cost.redis.scripts);
/** Commands redis-server read per socket read: above 1, the client pipelined them. */
const commandsPerRead = (m: Measured): number => (m.cost.redis.reads === 0 ? 0 : m.cost.redis.commands / m.cost.redis.reads);

const withFailures = (note: string, ms: readonly Measured[]): string => [note, failedCalls(ms)].filter(Boolean).join('; ');

function saturationFigures(samples: Samples, note: string): Figure[] {
  const local = samples.get(IN_PROCESS)!;
  const shared = samples.get(SHARED)!;
  const common = { scenario: 'counters', tenants: 7, note: withFailures(note, shared) };
  const at = `${CONNECTIONS} connections`;
  return [
    figureOf({ ...common, name: `${SHARED}, ${at}: throughput`, value: medianOf(shared, (m) => m.requestsPerSecond, 0), unit: 'req/s', baseline: { name: `${IN_PROCESS}, ${at}`, value: medianOf(local, (m) => m.requestsPerSecond, 0) }, samples: shared.map((m) => m.requestsPerSecond), note: `${common.note}; ${roundRatios(shared, local, (m) => m.requestsPerSecond)}` }),
    ...processFigures(shared, local, { ...common, at }),
    ...storeFigures(shared, { ...common, at }),
  ];
}

function pacedFigures(samples: Samples, note: string): Figure[] {
  const local = samples.get(IN_PROCESS)!;
  const shared = samples.get(SHARED)!;
  const common = { scenario: 'counters', tenants: 7, note: withFailures(note, shared) };
  const at = `${RATE} req/s`;
  const latency = (p: 'p50' | 'p90' | 'p99'): Figure =>
    figureOf({ ...common, name: `${SHARED} at ${at}: ${p}`, value: medianOf(shared, (m) => m.latencyMs[p]), unit: 'ms', baseline: { name: `${IN_PROCESS} at ${at}`, value: medianOf(local, (m) => m.latencyMs[p]) }, samples: shared.map((m) => m.latencyMs[p]) });
  return [latency('p50'), latency('p90'), latency('p99'), ...processFigures(shared, local, { ...common, at }), ...storeFigures(shared, { ...common, at })];
}

/** CPU per decision: tai serve with --counters against in-process, and redis-server's against tai serve's. */
function processFigures(shared: readonly Measured[], local: readonly Measured[], c: { scenario: string; tenants: number; note: string; at: string }): Figure[] {
  const { at, ...common } = c;
  const taiShared = medianOf(shared, cpuPerDecision('tai serve'), 1);
  return [
    figureOf({ ...common, name: `${SHARED}, ${at}: tai serve CPU per decision`, value: taiShared, unit: 'µs', baseline: { name: `${IN_PROCESS}, ${at}`, value: medianOf(local, cpuPerDecision('tai serve'), 1) }, samples: shared.map(cpuPerDecision('tai serve')) }),
    figureOf({ ...common, name: `${SHARED}, ${at}: redis-server CPU per decision`, value: medianOf(shared, cpuPerDecision('redis-server'), 1), unit: 'µs', baseline: { name: `tai serve's CPU per decision with --counters, ${at}`, value: taiShared } }),
  ];
}

/** What tai serve asked of the store per decision, how long a call took, and how redis-server received them. */
function storeFigures(shared: readonly Measured[], c: { scenario: string; tenants: number; note: string; at: string }): Figure[] {
  const { at, ...common } = c;
  return [
    figureOf({ ...common, name: `${SHARED}, ${at}: store calls per decision`, value: medianOf(shared, callsPerDecision), unit: 'calls', baseline: { name: 'one script call per consume', value: 1 } }),
    figureOf({ ...common, name: `${SHARED}, ${at}: store round trip, mean`, value: medianOf(shared, roundTripMs), unit: 'ms', baseline: { name: "redis-server's CPU per script it ran", value: medianOf(shared, redisMsPerScript, 4) }, samples: shared.map(roundTripMs) }),
    figureOf({ ...common, name: `${SHARED}, ${at}: commands per socket read at redis-server`, value: medianOf(shared, commandsPerRead, 2), unit: 'commands', baseline: { name: 'one command per read (no pipelining)', value: 1 }, samples: shared.map(commandsPerRead) }),
  ];
}
