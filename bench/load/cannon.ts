/**
 * One autocannon run in a process of its own, so it can sit on its own CPU (bench/cpu-pin.ts) apart from the
 * server it loads. Takes autocannon's options as one JSON argument and prints one JSON line: requests per
 * second, non-2xx answers, errors, and latency percentiles in fractional milliseconds — measured per response,
 * because autocannon's own histogram rounds to whole milliseconds, too coarse for a 2 ms target.
 *
 *   node bench/load/cannon.ts '{"url":"http://127.0.0.1:8080/v1/check","method":"POST","body":"…","connections":50,"duration":5}'
 */
import autocannon from 'autocannon';

export interface CannonResult {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** p999 (the 99.9th percentile): from the paced load (paced.ts) only. */
  latencyMs: { p50: number; p90: number; p99: number; p999?: number; max: number };
  /** CPU time (user + system) the load generator itself used during the run, in ms: where a shared machine's cores went. */
  cpuMs?: number;
  /** The same for the whole process, its start (node, autocannon's modules) included. */
  processCpuMs?: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as autocannon.Options;
const latencies: number[] = [];
const cpuBefore = process.cpuUsage();
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon({ ...options, headers: { 'content-type': 'application/json', ...options.headers } }, (error, r) => (error ? reject(error as Error) : resolve(r)));
  instance.on('response', (_client, _status, _bytes, responseTime) => void latencies.push(responseTime));
});
const cpu = process.cpuUsage(cpuBefore);
const whole = process.cpuUsage();
const sorted = Float64Array.from(latencies).sort();
/** Nearest-rank percentile of the sorted latencies, to the microsecond. */
const at = (p: number): number => Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]! * 1000) / 1000;
if (sorted.length === 0) throw new Error(`no responses from ${String(options.url)}`);
const out: CannonResult = {
  requestsPerSecond: Math.round(result.requests.total / ((result.duration as number) || 1)),
  requests: result.requests.total,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts,
  latencyMs: { p50: at(50), p90: at(90), p99: at(99), max: at(100) },
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  processCpuMs: Math.round((whole.user + whole.system) / 1000),
};
console.log(JSON.stringify(out));
