import type { Context, MiddlewareHandler } from 'hono';
import { pino, type DestinationStream, type Level, type LevelWithSilent, type Logger } from 'pino';
import { routePattern } from './metrics.ts';

export type { Logger } from 'pino';

/** pino levels as Cloud Logging severities (LogSeverity); trace has no finer severity than DEBUG. */
const SEVERITY: Record<string, string> = { trace: 'DEBUG', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'CRITICAL' };

export interface LoggerOptions {
  /** Lowest level written (default info); `silent` writes nothing. */
  level?: LevelWithSilent;
  /** Where JSON lines go (default stdout). */
  destination?: DestinationStream;
  /**
   * Fields on every line (default pino's `{ pid, hostname }`; null for none). `{ serviceContext: { service: 'tai',
   * version } }` lets Error Reporting group the errors.
   */
  base?: Record<string, unknown> | null;
  /** The clock of the `time` field, ms since the epoch (default Date.now). */
  now?: () => number;
}

/**
 * A pino logger writing one JSON object a line in the shape Google Cloud Logging reads from a container's stdout:
 * `severity` (DEBUG … CRITICAL) instead of pino's level number, `message`, `time` in RFC 3339, and a `stack_trace`
 * beside a logged `err` so Error Reporting picks it up.
 *
 * @example
 * const logger = createLogger({ level: 'info', base: { serviceContext: { service: 'tai', version: TAI_VERSION } } });
 * logger.warn({ tenant: 'acme' }, 'tenant suspended'); // {"severity":"WARNING","time":"…","tenant":"acme","message":"tenant suspended"}
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const now = opts.now;
  return pino(
    {
      level: opts.level ?? 'info',
      messageKey: 'message',
      ...(opts.base === undefined ? {} : { base: opts.base }),
      timestamp: now ? () => `,"time":"${new Date(now()).toISOString()}"` : pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }),
        log: (object) => (object.err instanceof Error && object.err.stack ? { ...object, stack_trace: object.err.stack } : object),
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

export interface RequestLogOptions {
  /**
   * Which answered (< 400) requests get their debug line: a fraction from 0 to 1, or a predicate (default: all
   * of them, when debug is enabled). 4xx lines (warn) and 5xx lines (error) are never sampled away.
   */
  sample?: number | ((c: Context) => boolean);
  /** The Google Cloud project, to link lines to the request's trace (`logging.googleapis.com/trace`). */
  traceProject?: string;
  /** A monotonic clock in ms, for the latency (default performance.now). */
  now?: () => number;
}

/**
 * Middleware logging one line per request: at debug when it succeeded, at warn for 4xx and at error for 5xx with
 * the problem detail (and the error, for 5xx). Fields: Cloud Logging's `httpRequest`, the route pattern, the
 * `requestId` of hono/request-id (mount requestId() first), and the trace when the caller sent one.
 */
export function requestLog(logger: Logger, opts: RequestLogOptions = {}): MiddlewareHandler {
  const now = opts.now ?? (() => performance.now());
  const sampled = sampler(opts.sample);
  return async (c, next) => {
    const start = now();
    await next();
    const level = requestLevel(c.res.status);
    if (!logger.isLevelEnabled(level) || (level === 'debug' && !sampled(c))) return;
    writeRequestLine(logger, level, { ...requestOf(c, routePattern(c), now() - start), ...(await failureOf(c)) }, opts.traceProject);
  };
}

/** What a request's line says: gathered from Hono's context by requestLog, or by the lean routes (http/lean/). */
export interface LoggedRequest {
  method: string;
  url: string;
  status: number;
  /** The route pattern (`/v1/tenants/:name/entitlements`), or `unmatched`. */
  route: string;
  latencyMs: number;
  userAgent: string | undefined;
  remoteIp: string | undefined;
  requestId: string | undefined;
  traceparent: string | undefined;
  cloudTraceContext: string | undefined;
  /** A failed request's problem (RFC 9457 body): its type and detail. */
  problem?: { type: unknown; detail: unknown };
  /** The error a handler threw (a 5xx). */
  err?: unknown;
}

/** debug when answered, warn for 4xx, error for 5xx. */
export function requestLevel(status: number): Level {
  return status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug';
}

/** Writes a request's line at `level` (the caller checked the level is enabled, and sampled). */
export function writeRequestLine(logger: Logger, level: Level, r: LoggedRequest, traceProject?: string): void {
  const fields = { ...requestFields(r), ...traceFields(r, traceProject), ...failureFields(r) };
  logger[level](fields, `${r.method} ${r.route} ${r.status}`);
}

function sampler(sample: RequestLogOptions['sample']): (c: Context) => boolean {
  if (typeof sample === 'function') return sample;
  if (sample === undefined || sample >= 1) return () => true;
  return () => Math.random() < sample;
}

function requestOf(c: Context, route: string, latencyMs: number): LoggedRequest {
  return {
    method: c.req.method,
    url: c.req.url,
    status: c.res.status,
    route,
    latencyMs,
    userAgent: c.req.header('user-agent'),
    remoteIp: (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress,
    requestId: c.get('requestId') as string | undefined,
    traceparent: c.req.header('traceparent'),
    cloudTraceContext: c.req.header('x-cloud-trace-context'),
  };
}

function requestFields(r: LoggedRequest): Record<string, unknown> {
  const httpRequest: Record<string, unknown> = {
    requestMethod: r.method,
    requestUrl: r.url,
    status: r.status,
    latency: `${(r.latencyMs / 1000).toFixed(9).replace(/\.?0+$/, '')}s`,
  };
  if (r.userAgent !== undefined) httpRequest.userAgent = r.userAgent;
  if (r.remoteIp !== undefined) httpRequest.remoteIp = r.remoteIp;
  return { httpRequest, route: r.route, ...(r.requestId === undefined ? {} : { requestId: r.requestId }) };
}

interface TraceContext {
  trace: string;
  span: string | undefined;
  sampled: boolean;
}

/** Links the line to the caller's trace (W3C traceparent first, else Google's X-Cloud-Trace-Context). */
function traceFields(r: LoggedRequest, project: string | undefined): Record<string, unknown> {
  if (project === undefined) return {};
  const context = fromTraceparent(r.traceparent) ?? fromCloudTraceContext(r.cloudTraceContext);
  if (context === undefined) return {};
  return {
    'logging.googleapis.com/trace': `projects/${project}/traces/${context.trace}`,
    ...(context.span === undefined ? {} : { 'logging.googleapis.com/spanId': context.span }),
    'logging.googleapis.com/trace_sampled': context.sampled,
  };
}

/** `version-trace-span-flags`, all lowercase hex; bit 0 of the flags is "sampled". */
function fromTraceparent(header: string | undefined): TraceContext | undefined {
  const m = /^[\da-f]{2}-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/.exec(header ?? '');
  if (!m) return undefined;
  return { trace: m[1] as string, span: m[2], sampled: (parseInt(m[3] as string, 16) & 1) === 1 };
}

/** `TRACE_ID/SPAN_ID;o=OPTIONS`, the span id in decimal (Cloud Logging wants 16 hex digits). */
function fromCloudTraceContext(header: string | undefined): TraceContext | undefined {
  const m = /^([\da-f]{32})(?:\/(\d{1,20}))?(?:;o=([01]))?$/i.exec(header ?? '');
  if (!m) return undefined;
  const span = m[2] === undefined ? undefined : BigInt(m[2]).toString(16).padStart(16, '0');
  return { trace: (m[1] as string).toLowerCase(), span, sampled: m[3] === '1' };
}

/** A failed request's problem detail (RFC 9457 body) and, when a handler threw, the error. */
async function failureOf(c: Context): Promise<Pick<LoggedRequest, 'problem' | 'err'>> {
  if (c.res.status < 400) return {};
  const failure: Pick<LoggedRequest, 'problem' | 'err'> = {};
  if (c.res.headers.get('content-type')?.includes('problem+json')) {
    const problem = (await c.res
      .clone()
      .json()
      .catch(() => undefined)) as { type?: unknown; detail?: unknown } | undefined;
    if (problem) failure.problem = { type: problem.type, detail: problem.detail };
  }
  if (c.error) failure.err = c.error;
  return failure;
}

function failureFields(r: LoggedRequest): Record<string, unknown> {
  if (r.status < 400) return {};
  const fields: Record<string, unknown> = {};
  if (r.problem) fields.problem = r.problem;
  if (r.err !== undefined) fields.err = r.err;
  return fields;
}

/** Where a CLI command writes lines; the same shape as cli/io.ts's CommandIO. */
export interface LineIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/**
 * The CLI's line output as JSON log lines: `out` at info, `err` at error, without the `tai: ` prefix (every line
 * is the governor's).
 *
 * @example
 * await startServer({ ...opts, io: ioLogger(createLogger()) });
 */
export function ioLogger(logger: Logger): LineIO {
  const strip = (line: string) => (line.startsWith('tai: ') ? line.slice(5) : line);
  return {
    out: (line) => logger.info(strip(line)),
    err: (line) => logger.error(strip(line)),
  };
}
