/**
 * An open-loop load at a fixed rate, paced evenly (autocannon's `overallRate` is not: each connection sends its
 * whole per-second quota as fast as it can at the top of every second, so its latencies are a saturation
 * burst's queueing). Requests leave on schedule over a keep-alive pool whether or not earlier ones have been
 * answered; each latency runs from the request's write to the end of its answer. Prints the same JSON line as
 * cannon.ts.
 *
 *   node bench/load/paced.ts '{"url":"http://127.0.0.1:8080/v1/check","body":"…","rate":5000,"duration":5,"connections":50}'
 */
import { Agent, request } from 'node:http';
import type { CannonResult } from './cannon.ts';

interface PacedOptions {
  url: string;
  body: string;
  rate: number;
  duration: number;
  connections: number;
}

const o = JSON.parse(process.argv[2] ?? '{}') as PacedOptions;
const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
const latencies: number[] = [];
const counts = { non2xx: 0, errors: 0, timeouts: 0 };
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(o.body) };

function send(): Promise<void> {
  return new Promise((resolve) => {
    const started = performance.now();
    const req = request(o.url, { method: 'POST', agent, headers, timeout: 10_000 }, (res) => {
      if (res.statusCode! < 200 || res.statusCode! >= 300) counts.non2xx++;
      res.resume().on('end', () => {
        latencies.push(performance.now() - started);
        resolve();
      });
    });
    req.on('timeout', () => (counts.timeouts++, req.destroy()));
    req.on('error', () => (counts.errors++, resolve()));
    req.end(o.body);
  });
}

/** Sends on schedule: by time t, rate × t requests have left. setImmediate keeps the pacing within microseconds. */
async function run(): Promise<number> {
  const inflight: Promise<void>[] = [];
  const total = Math.round(o.rate * o.duration);
  const start = performance.now();
  let sent = 0;
  await new Promise<void>((done) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * o.rate));
      for (; sent < due; sent++) inflight.push(send());
      if (sent < total) setImmediate(tick);
      else done();
    };
    tick();
  });
  await Promise.all(inflight);
  return (performance.now() - start) / 1000;
}

// Open the pool's connections first, so connection set-up is not timed.
await Promise.all(Array.from({ length: o.connections }, send));
latencies.length = 0;
Object.assign(counts, { non2xx: 0, errors: 0, timeouts: 0 });
const seconds = await run();
agent.destroy();
const sorted = Float64Array.from(latencies).sort();
if (sorted.length === 0) throw new Error(`no responses from ${o.url}`);
const at = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! * 1000) / 1000;
const out: CannonResult = { requestsPerSecond: Math.round(latencies.length / seconds), requests: latencies.length, ...counts, latencyMs: { p50: at(50), p90: at(90), p99: at(99), p999: at(99.9), max: at(100) } };
console.log(JSON.stringify(out));
