import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { AppOptions } from '../app.ts';
import { requestLevel, writeRequestLine, type Logger } from '../logger.ts';
import { PROBLEM_CONTENT_TYPE, PROBLEMS, problemJson, Refusal } from '../problem.ts';
import { drainUnread } from './request-body.ts';

/** A request the lean routes took: the answer (unread: its body was never read), or the error its route threw. */
export type Answered = { route: string; requestId: string; started: number } & (Reached | { error: unknown });
/** The answer a route reached; unread: its body was never read. */
export interface Reached {
  answer: object | Refusal;
  unread: boolean;
}

/**
 * Sends an answer as the Hono app sends it — the same headers in the same order (WHATWG Headers sorts them),
 * the same problem bodies — then counts and logs it as httpMetrics and requestLog do. An error a route threw is
 * the app's onError: reported, and a 500 naming the request (a 408 nobody reads when the client went away).
 */
export function answered(opts: AppOptions): (req: IncomingMessage, res: ServerResponse, a: Answered) => void {
  const now = opts.metrics?.now ?? (() => performance.now());
  return (req, res, a) => {
    const answer = 'error' in a ? failed(req, a, opts.onError) : a.answer;
    const status = send(res, answer, a.requestId, a.route);
    if ('unread' in a && a.unread) res.once('finish', () => drainUnread(req));
    const ms = now() - a.started;
    opts.metrics?.observeHttp(a.route, status, ms / 1000);
    if (opts.logger) logLine(opts.logger, req, { ...a, status, ms, answer });
  };
}

function failed(req: IncomingMessage, a: { route: string; requestId: string; error: unknown }, onError: AppOptions['onError']): Refusal {
  // The client went away (or the listener's timeout cut it off): the answer below is never sent.
  if (req.socket.destroyed) return new Refusal('request-timeout', 'the connection closed before the request arrived whole');
  onError?.(a.error, a.route);
  return new Refusal('internal', `unexpected error (request ${a.requestId}); the governor keeps serving`);
}

function send(res: ServerResponse, answer: object | Refusal, requestId: string, path: string): number {
  const refused = answer instanceof Refusal;
  const body = refused ? problemJson(answer.kind, answer.detail, path) : JSON.stringify(answer);
  const headers: OutgoingHttpHeaders = { 'content-type': refused ? PROBLEM_CONTENT_TYPE : 'application/json' };
  if (refused && answer.headers) for (const [name, value] of sortedHeaders(answer.headers)) headers[name] = value;
  headers['x-request-id'] = requestId;
  // As @hono/node-server writes them: its JSON answers name it Content-Length, its problems (built with a header record) content-length.
  headers[refused ? 'content-length' : 'Content-Length'] = Buffer.byteLength(body);
  const status = refused ? PROBLEMS[answer.kind].status : 200;
  res.writeHead(status, headers);
  res.end(body);
  return status;
}

function sortedHeaders(headers: Readonly<Record<string, string>>): Array<[string, string]> {
  return Object.entries(headers)
    .map(([name, value]): [string, string] => [name.toLowerCase(), value])
    .sort(([a], [b]) => (a < b ? -1 : 1));
}

function logLine(logger: Logger, req: IncomingMessage, a: Answered & { status: number; ms: number; answer: object | Refusal }): void {
  const level = requestLevel(a.status);
  if (!logger.isLevelEnabled(level)) return;
  const { headers } = req;
  const refusal = a.answer instanceof Refusal ? a.answer : undefined;
  writeRequestLine(logger, level, {
    method: 'POST',
    url: `${(req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http'}://${headers.host}${a.route}`,
    status: a.status,
    route: a.route,
    latencyMs: a.ms,
    userAgent: headers['user-agent'],
    remoteIp: req.socket.remoteAddress,
    requestId: a.requestId,
    traceparent: headers.traceparent as string | undefined,
    cloudTraceContext: headers['x-cloud-trace-context'] as string | undefined,
    ...(refusal && { problem: { type: `https://tai.dev/problems/${refusal.kind}`, detail: refusal.detail } }),
    ...('error' in a && a.status === 500 && { err: a.error }),
  });
}
