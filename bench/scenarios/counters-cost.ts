/**
 * What the counters scenario starts and reads around each load run: `tai serve` processes with or without
 * `--counters redis://…`, and the cost of a run beyond what the load generator sees — the CPU time of every
 * process involved (/proc), the commands and socket reads redis-server counted (INFO), and the round trips each
 * `tai serve` timed to its store (/metrics, tai_counters_duration_seconds).
 */
import { join } from 'node:path';
import { redisCall, type RedisServer } from '../../test/support/redis-server.ts';
import { startChildServer, type ChildServer } from '../child-server.ts';
import type { CannonResult } from '../load/cannon.ts';
import { median } from '../measure.ts';
import { cpuMsOf, machineBusyMs } from '../process-cpu.ts';

/** One consume of 1 on a tenant whose api-calls quota the bench never reaches (decision-http's bench-co). */
export const CONSUME = JSON.stringify({ tenant: 'bench-co', metric: 'api-calls', amount: 1 });

/**
 * What both parts of the scenario share: the store, an in-process `tai serve` and one with --counters (replica
 * A), how long to load, where to log.
 */
export interface CountersRun {
  redis: RedisServer;
  local: ChildServer;
  shared: ChildServer;
  plan: { runs: number; seconds: number };
  log: (line: string) => void;
}

/** A process whose CPU time a run reads; a `tai serve` also gives its /metrics `url`. */
export interface Watched {
  label: string;
  pid: number;
  url?: string;
}

export interface RunCost {
  /**
   * CPU ms each watched process used during the run, by label, and the load generators' own (`load generator`,
   * while they loaded). `everything else` is the rest of the machine's busy time over the whole window: the load
   * generators' start, the kernel's share of loopback networking, the bench, and any other process running.
   */
  cpuMs: Record<string, number>;
  /** The window's wall time, from before the load generators start to after they exit. */
  wallMs: number;
  /** Scripts redis-server ran (EVALSHA and EVAL), all commands it processed, and the socket reads they came in. */
  redis: { scripts: number; commands: number; reads: number };
  /**
   * Calls the `tai serve` processes timed to the store, their summed seconds (client side: queueing included),
   * and the calls that failed — no answer within --counters-timeout: those decisions took the unavailability path.
   */
  trips: { calls: number; seconds: number; errors: number };
}

/** A run's answers (all load generators summed) and its cost. */
export interface Measured {
  requests: number;
  requestsPerSecond: number;
  latencyMs: CannonResult['latencyMs'];
  cost: RunCost;
}

interface Snapshot {
  at: number;
  machineMs: number;
  cpuMs: Record<string, number>;
  redis: RunCost['redis'];
  trips: RunCost['trips'];
}

/**
 * Starts `tai serve` on the bench policy in `dir` under its own log, key and origin (`name`), durability async,
 * with `--counters` when given a redis-server; on CPU `core` when given one.
 */
export function serve(dir: string, name: string, o: { redis?: RedisServer; core?: number }): Promise<ChildServer> {
  const args = ['cli/tai.ts', 'serve', '--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--durability', 'async'];
  args.push('--log', join(dir, `log-${name}`), '--key', join(dir, `key-${name}`), '--origin', `tai.dev/bench/${name}`);
  if (o.redis) args.push('--counters', o.redis.url);
  return startChildServer(args, o.core);
}

/** Refuses a server whose consume is not allowed and counted (a store it cannot reach answers CountersUnavailable). */
export async function assertCounts(url: string): Promise<void> {
  const answer = (await (await fetch(`${url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CONSUME })).json()) as { allowed?: boolean; reason?: string };
  if (answer.allowed !== true || answer.reason === 'CountersUnavailable') throw new Error(`${url}: consume answered ${JSON.stringify(answer)} before the load`);
}

/**
 * Runs `load` (one or more load generators at once) and reads what it cost the watched processes and the store.
 * A run with a non-2xx answer or a transport error would measure a failure path: it throws instead. Store calls
 * that timed out are counted (`trips.errors`) for the figure notes: on a shared VM a stall of the timeout's
 * length happens under saturation, and one such stall should not void the run.
 */
export async function measured(load: () => Promise<CannonResult[]>, watched: readonly Watched[], redis: RedisServer): Promise<Measured> {
  const before = await snapshot(watched, redis);
  const results = await load();
  const after = await snapshot(watched, redis);
  const failed = results.find((r) => r.non2xx > 0 || r.errors > 0);
  if (failed) throw new Error(`${failed.non2xx} non-2xx answers and ${failed.errors} errors under load`);
  const cpuMs = Object.fromEntries(watched.map((w) => [w.label, after.cpuMs[w.label]! - before.cpuMs[w.label]!]));
  cpuMs['load generator'] = results.reduce((sum, r) => sum + (r.cpuMs ?? 0), 0);
  const accounted = Object.values(cpuMs).reduce((sum, ms) => sum + ms, 0) - cpuMs['load generator'] + results.reduce((sum, r) => sum + (r.processCpuMs ?? 0), 0);
  cpuMs['everything else'] = Math.max(0, after.machineMs - before.machineMs - accounted);
  const delta = <K extends string>(a: Record<K, number>, b: Record<K, number>, keys: readonly K[]): Record<K, number> => Object.fromEntries(keys.map((k) => [k, a[k] - b[k]])) as Record<K, number>;
  return {
    requests: results.reduce((sum, r) => sum + r.requests, 0),
    requestsPerSecond: results.reduce((sum, r) => sum + r.requestsPerSecond, 0),
    // One generator's percentiles; with several, the first's (they share the machine and the store).
    latencyMs: results[0]!.latencyMs,
    cost: { cpuMs, wallMs: after.at - before.at, redis: delta(after.redis, before.redis, ['scripts', 'commands', 'reads']), trips: delta(after.trips, before.trips, ['calls', 'seconds', 'errors']) },
  };
}

async function snapshot(watched: readonly Watched[], redis: RedisServer): Promise<Snapshot> {
  const trips = { calls: 0, seconds: 0, errors: 0 };
  for (const w of watched) {
    if (w.url === undefined) continue;
    const t = await storeTrips(w.url);
    trips.calls += t.calls;
    trips.seconds += t.seconds;
    trips.errors += t.errors;
  }
  const redisNow = await redisCounts(redis);
  const cpuMs = Object.fromEntries(watched.map((w) => [w.label, cpuMsOf(w.pid)]));
  return { at: performance.now(), machineMs: machineBusyMs(), cpuMs, redis: redisNow, trips };
}

/** The store's counts so far: scripts run, commands processed, socket reads (one INFO call; it adds 1 of each). */
async function redisCounts(redis: RedisServer): Promise<RunCost['redis']> {
  const info = String(await redisCall(redis, ['INFO', 'stats', 'commandstats']));
  const field = (re: RegExp): number => Number(re.exec(info)?.[1] ?? 0);
  return {
    scripts: field(/^cmdstat_evalsha:calls=(\d+)/m) + field(/^cmdstat_eval:calls=(\d+)/m),
    commands: field(/^total_commands_processed:(\d+)/m),
    reads: field(/^total_reads_processed:(\d+)/m),
  };
}

/** tai_counters_duration_seconds of one `tai serve`: calls and seconds that succeeded, calls that failed. */
async function storeTrips(url: string): Promise<Snapshot['trips']> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (series: string, outcome: string): number => Number(new RegExp(`^tai_counters_duration_seconds_${series}\\{outcome="${outcome}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return { calls: value('count', 'ok'), seconds: value('sum', 'ok'), errors: value('count', 'error') };
}

/** The median over runs of `pick`, rounded to `digits`. */
export const medianOf = (ms: readonly Measured[], pick: (m: Measured) => number, digits = 3): number => Number(median(ms.map(pick)).toFixed(digits));

/** CPU µs per decision a process used. */
export const cpuPerDecision =
  (label: string) =>
  (m: Measured): number =>
    ((m.cost.cpuMs[label] ?? 0) * 1000) / m.requests;

/** For a figure note: how many store calls failed in each run, when any did. */
export function failedCalls(ms: readonly Measured[]): string | undefined {
  const failed = ms.map((m) => m.cost.trips.errors);
  return failed.some((n) => n > 0) ? `store calls that got no answer within --counters-timeout (250 ms), per run: ${failed.join(', ')}` : undefined;
}

/**
 * For a figure note: subject ÷ baseline of each round, whose runs sat next to each other — steadier than the ratio
 * of the two medians when other work on the machine comes and goes between rounds.
 */
export function roundRatios(subject: readonly Measured[], baseline: readonly Measured[], pick: (m: Measured) => number): string {
  const ratios = subject.map((m, i) => pick(m) / pick(baseline[i]!));
  return `ratio per round ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)})`;
}
