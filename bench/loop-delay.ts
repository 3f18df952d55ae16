/**
 * The event-loop delay of servers under test (issue 19), measured inside each server (load/loop-delay-probe.ts)
 * and read per load phase, as figures beside the bare node:http server's in the same phase.
 */
import type { ChildServer } from './child-server.ts';
import type { LoopDelay } from './load/loop-delay-probe.ts';
import { median } from './measure.ts';
import { figureOf, type Figure, type Target } from './types.ts';

/** Per phase (e.g. "50 connections"), per server under test: its event-loop delay in each run. */
export type Delays = Map<string, Map<string, LoopDelay[]>>;

/** Runs `load` with `server`'s event-loop delay recorded for it, under `phase` and `name`. */
export async function recordLoopDelay<T>(delays: Delays, at: { server: ChildServer; phase: string; name: string }, load: () => Promise<T>): Promise<T> {
  await at.server.resetLoopDelay();
  const result = await load();
  const byName = delays.get(at.phase) ?? new Map<string, LoopDelay[]>();
  byName.set(at.name, [...(byName.get(at.name) ?? []), await at.server.readLoopDelay()]);
  delays.set(at.phase, byName);
  return result;
}

/**
 * The servers' event-loop delay per phase: the longest stall over the runs (target: none over 10 ms, issue 19)
 * and the median of the runs' p99, beside the bare server's in the same phase.
 */
export function loopDelayFigures(delays: Delays, note: string, o: { scenario: string; tenants: number; bare: string }): Figure[] {
  const common = { scenario: o.scenario, tenants: o.tenants, unit: 'ms', note: `the server's own event loop (monitorEventLoopDelay, 1 ms resolution) during each load; ${note}` };
  const target: Target = { op: '<=', value: 10, unit: 'ms', source: 'issue 19: no stall over 10 ms' };
  const worst = (ds: readonly LoopDelay[]): number => Math.max(...ds.map((d) => d.maxMs));
  const p99 = (ds: readonly LoopDelay[]): number => Number(median(ds.map((d) => d.p99Ms)).toFixed(3));
  const out: Figure[] = [];
  for (const [phase, byTarget] of delays) {
    const bare = byTarget.get(o.bare)!;
    for (const [name, ds] of byTarget) {
      if (name === o.bare) continue;
      out.push(
        figureOf({ ...common, name: `${name}, ${phase}: event-loop delay max`, value: worst(ds), baseline: { name: `${o.bare}, ${phase}`, value: worst(bare) }, samples: ds.map((d) => d.maxMs), target }),
        figureOf({ ...common, name: `${name}, ${phase}: event-loop delay p99`, value: p99(ds), baseline: { name: `${o.bare}, ${phase}`, value: p99(bare) }, samples: ds.map((d) => d.p99Ms) }),
      );
    }
  }
  return out;
}
