/**
 * The peers bench's figures: each TAI target beside the peer answering the same question, the peer as the
 * baseline (so the ratio is TAI ÷ peer), and TAI's event-loop delay per load phase beside its own when idle.
 */
import type { CannonResult } from '../load/cannon.ts';
import type { LoopDelay } from '../load/loop-delay-probe.ts';
import type { Delays } from '../loop-delay.ts';
import { median } from '../measure.ts';
import { figureOf, type Figure, type Target } from '../types.ts';

/** Per target name: one result per run. */
export type Samples = Map<string, CannonResult[]>;

/** A TAI target and the peer it is compared with; `sync` answers wait for the disk. */
export interface Pairing {
  tai: string;
  peer: string;
  sync: boolean;
}

export interface PeerRuns {
  /** At saturation (closed loop, `connections` connections). */
  saturation: Samples;
  /** At `rate` requests/s paced evenly (open loop). */
  paced: Samples;
  /** TAI's event-loop delay per phase and target; `idle` per target: its server's before any load. */
  delays: Delays;
  idle: Map<string, LoopDelay>;
  /** fdatasync of a small append on the logs' disk (ms): the floor under a sync answer. */
  floor: { p50: number; p99: number };
  connections: number;
  rate: number;
  tenants: number;
  note: string;
}

const SCENARIO = 'peers';
const medianOf = (rs: readonly CannonResult[], pick: (r: CannonResult) => number): number => Number(median(rs.map(pick)).toFixed(3));
const spread = (rs: readonly CannonResult[], pick: (r: CannonResult) => number, unit: string): string =>
  `${Math.min(...rs.map(pick))}–${Math.max(...rs.map(pick))} ${unit}`;

/** The pairings' figures, for those both sides of which were measured. */
export function pairingFigures(pairings: readonly Pairing[], runs: PeerRuns): Figure[] {
  return pairings.filter((p) => runs.saturation.has(p.tai) && runs.saturation.has(p.peer)).flatMap((p) => [throughputFigure(p, runs), ...latencyFigures(p, runs)]);
}

/** Issue 19: TAI keeps its throughput lead over each peer (≥ 1× the peer's). */
function throughputFigure(p: Pairing, runs: PeerRuns): Figure {
  const tai = runs.saturation.get(p.tai)!;
  const peer = runs.saturation.get(p.peer)!;
  const rps = (r: CannonResult): number => r.requestsPerSecond;
  const peerRps = medianOf(peer, rps);
  const target: Target = { op: '>=', value: peerRps, unit: 'req/s', source: `issue 19: TAI's throughput ≥ ${p.peer}'s` };
  return figureOf({
    scenario: SCENARIO,
    tenants: runs.tenants,
    name: `${p.tai} vs ${p.peer}, ${runs.connections} connections: throughput`,
    value: medianOf(tai, rps),
    unit: 'req/s',
    baseline: { name: `${p.peer}, ${runs.connections} connections`, value: peerRps },
    samples: tai.map(rps),
    target,
    note: `closed loop (autocannon); ${p.peer} runs ${spread(peer, rps, 'req/s')}; ${runs.note}`,
  });
}

/**
 * p50, p99 and p99.9 at the paced rate. The p99 has the target (issue 19: TAI's at or below the peer's); a sync
 * answer waits for an fdatasync no peer does, so its target figure is its p99 less the disk's fdatasync p99.
 */
function latencyFigures(p: Pairing, runs: PeerRuns): Figure[] {
  const tai = runs.paced.get(p.tai)!;
  const peer = runs.paced.get(p.peer)!;
  const at = `at ${runs.rate} req/s`;
  const note = [`${runs.rate} requests/s offered evenly (bench/load/paced.ts) over ${runs.connections} keep-alive connections`, overloaded(p, runs), runs.note].filter(Boolean).join('; ');
  const common = { scenario: SCENARIO, tenants: runs.tenants, unit: 'ms' };
  const target: Target = { op: '<=', value: medianOf(peer, (r) => r.latencyMs.p99), unit: 'ms', source: `issue 19: TAI's p99 ≤ ${p.peer}'s${p.sync ? ' (sync: less the fdatasync p99)' : ''}` };
  const row = (label: string, pick: (r: CannonResult) => number, t?: Target, less = 0): Figure =>
    figureOf({
      ...common,
      name: `${p.tai} vs ${p.peer} ${at}: ${label}`,
      value: Number((medianOf(tai, pick) - less).toFixed(3)),
      baseline: { name: `${p.peer} ${at}`, value: medianOf(peer, pick) },
      samples: tai.map((r) => Number((pick(r) - less).toFixed(3))),
      target: t,
      note: `${p.peer} runs ${spread(peer, pick, 'ms')}; ${note}`,
    });
  const p999 = (r: CannonResult): number => r.latencyMs.p999;
  const p99 = (r: CannonResult): number => r.latencyMs.p99;
  const rows = [row('p50', (r) => r.latencyMs.p50)];
  if (p.sync) rows.push(row('p99', p99), row(`p99 less fdatasync p99 (${runs.floor.p99} ms)`, p99, target, runs.floor.p99));
  else rows.push(row('p99', p99, target));
  rows.push(row('p99.9', p999));
  return rows;
}

/** Names the sides whose saturation throughput is below the offered rate: their latency there is a growing queue. */
function overloaded(p: Pairing, runs: PeerRuns): string | undefined {
  const below = [p.tai, p.peer].filter((name) => medianOf(runs.saturation.get(name)!, (r) => r.requestsPerSecond) < runs.rate);
  return below.length === 0 ? undefined : `OVERLOADED: ${below.join(' and ')} cannot answer ${runs.rate} req/s here (see its throughput), so the latency is queueing`;
}

/** TAI's event-loop delay per phase: the longest stall over the runs (issue 19: none over 10 ms) and the median p99. */
export function loopDelayFigures(runs: PeerRuns): Figure[] {
  const common = { scenario: SCENARIO, tenants: runs.tenants, unit: 'ms', note: `the server's own event loop (monitorEventLoopDelay, 1 ms resolution), baseline the same server idle for 1 s before any load; ${runs.note}` };
  const target: Target = { op: '<=', value: 10, unit: 'ms', source: 'issue 19: no stall over 10 ms' };
  const out: Figure[] = [];
  for (const [phase, byTarget] of runs.delays) {
    for (const [name, ds] of byTarget) {
      const idle = runs.idle.get(name)!;
      const baseline = (value: number): { name: string; value: number } => ({ name: `${name.replace(/^\w+ /, 'tai serve ')}, idle`, value });
      out.push(
        figureOf({ ...common, name: `${name}, ${phase}: event-loop delay max`, value: Math.max(...ds.map((d) => d.maxMs)), baseline: baseline(idle.maxMs), samples: ds.map((d) => d.maxMs), target }),
        figureOf({ ...common, name: `${name}, ${phase}: event-loop delay p99`, value: Number(median(ds.map((d) => d.p99Ms)).toFixed(3)), baseline: baseline(idle.p99Ms), samples: ds.map((d) => d.p99Ms) }),
      );
    }
  }
  return out;
}
