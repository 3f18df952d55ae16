/** The HTTP load of `npm run profile -- http-*`: autocannon POSTing one JSON body to a local `tai serve`. */
import autocannon from 'autocannon';

export interface HttpLoad {
  port: number;
  path: string;
  body: Record<string, unknown>;
  seconds: number;
  connections: number;
}

export interface LoadResult {
  /** Requests answered (2xx or not). */
  requests: number;
  /** One line: rate, latency, errors. */
  summary: string;
}

/** Offers as many requests as `connections` connections get answered for `seconds`. */
export async function drive(l: HttpLoad): Promise<LoadResult> {
  const r = await autocannon({
    url: `http://127.0.0.1:${l.port}${l.path}`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(l.body),
    connections: l.connections,
    duration: l.seconds,
  });
  const requests = r.requests.total;
  const summary = `load: ${requests} requests in ${r.duration.toFixed(1)} s (${Math.round(r.requests.average)}/s), latency p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms; ${r.non2xx} non-2xx, ${r.errors} errors`;
  return { requests, summary };
}
