/** What `npm run profile` prints after a flame run: the top frames, and for HTTP load their time per request. */
import { ticksToProfile, readTicks, type TickFrame } from './flame-ticks.ts';
import { frameTimes, topFrames, type CpuProfile } from './profile-top.ts';
import type { LoadResult } from './profile-load.ts';

/** bench/profile.ts runs its phase in this function; everything else is building the population. */
const PHASE_FRAME = /^runPhase .*bench\/profile\.ts:/;

/** Which ticks to list: the phase of bench/profile.ts, or a stretch of wall time since the process started. */
export type TickSelection = { phase: true } | { fromMs: number; toMs: number };

function select(ticks: TickFrame[][], wallMs: number, s: TickSelection): TickFrame[][] {
  if ('fromMs' in s) return ticks.slice(Math.floor((s.fromMs / wallMs) * ticks.length), Math.ceil((s.toMs / wallMs) * ticks.length));
  return ticks.flatMap((stack): TickFrame[][] => {
    const at = stack.findIndex((f) => f.type === 'JS' && PHASE_FRAME.test(f.name));
    return at < 0 ? [] : [stack.slice(at)];
  });
}

/**
 * The selected samples of a clinic flame run as a profile. Ticks come in time order but carry no times, so each
 * stands for the process's wall time over the number of ticks, and a stretch of time is the same share of them.
 */
export function flameProfile(samplesFile: string, wallMs: number, s: TickSelection): CpuProfile {
  const ticks = readTicks(samplesFile);
  const msPerTick = wallMs > 0 && ticks.length > 0 ? wallMs / ticks.length : undefined;
  const selected = msPerTick === undefined ? ticks : select(ticks, wallMs, s);
  return ticksToProfile(selected.length > 0 ? selected : ticks, msPerTick);
}

/** Prints the top frames; with a load, also the heaviest frames' µs per request answered. */
export function printTopFrames(profile: CpuProfile, load: LoadResult | undefined, count = 15): void {
  console.log(`\n${topFrames(profile, count)}`);
  if (!load || load.requests === 0) return;
  const perRequest = (ms: number): string => ((ms * 1000) / load.requests).toFixed(1).padStart(9);
  const rows = frameTimes(profile)
    .sort((a, b) => b.totalMs - a.totalMs)
    .slice(0, 30)
    .map((f) => `${perRequest(f.selfMs)} ${perRequest(f.totalMs)}  ${f.frame}`);
  console.log(`\n${load.summary}\nper request answered (main thread, during the load)\n  self µs  total µs  frame\n${rows.join('\n')}`);
}
