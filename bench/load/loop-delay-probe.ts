/**
 * Preloaded into a server under test (`node --import bench/load/loop-delay-probe.ts …`, see child-server.ts):
 * records its event loop's delay (monitorEventLoopDelay, 1 ms resolution) and answers over the IPC channel the
 * bench started it with: `reset` starts a load phase afresh, `read` reports the phase's max, p99 and mean.
 * Measured inside the server, since a stall there is what its callers wait on.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  maxMs: number;
  p99Ms: number;
  meanMs: number;
}
export type LoopDelayAsk = { loopDelay: 'reset' } | { loopDelay: 'read' };

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const ms = (ns: number): number => Math.round(ns / 1e3) / 1e3;

process.on('message', (m: LoopDelayAsk) => {
  if (m?.loopDelay === 'reset') {
    delay.reset();
    process.send?.({ loopDelay: 'reset' });
  } else if (m?.loopDelay === 'read') {
    const read: LoopDelay = { maxMs: ms(delay.max), p99Ms: ms(delay.percentile(99)), meanMs: ms(delay.mean) };
    process.send?.({ loopDelay: read });
  }
});
// The channel must not keep a server alive that would otherwise exit (a SIGTERM'd `tai serve` ends by itself).
process.channel?.unref();
