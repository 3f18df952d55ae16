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
    const status = c.res.status;
    const level: Level = status >= 500 ? 'error' : status >= 400 ? 'warn' : 'debug';
    if (!logger.isLevelEnabled(level) || (level === 'debug' && !sampled(c))) return;
    const route = routePattern(c);
    const fields = { ...requestFields(c, route, now() - start), ...traceFields(c, opts.traceProject), ...(await failureFields(c)) };
    logger[level](fields, `${c.req.method} ${route} ${status}`);
  };
}

function sampler(sample: RequestLogOptions['sample']): (c: Context) => boolean {
  if (typeof sample === 'function') return sample;
  if (sample === undefined || sample >= 1) return () => true;
  return () => Math.random() < sample;
}

function requestFields(c: Context, route: string, latencyMs: number): Record<string, unknown> {
  const httpRequest: Record<string, unknown> = {
    requestMethod: c.req.method,
    requestUrl: c.req.url,
    status: c.res.status,
    latency: `${(latencyMs / 1000).toFixed(9).replace(/\.?0+$/, '')}s`,
  };
  const userAgent = c.req.header('user-agent');
  if (userAgent !== undefined) httpRequest.userAgent = userAgent;
  const remoteIp = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
  if (remoteIp !== undefined) httpRequest.remoteIp = remoteIp;
  const requestId = c.get('requestId') as string | undefined;
  return { httpRequest, route, ...(requestId === undefined ? {} : { requestId }) };
}

interface TraceContext {
  trace: string;
  span: string | undefined;
  sampled: boolean;
}

/** Links the line to the caller's trace (W3C traceparent first, else Google's X-Cloud-Trace-Context). */
function traceFields(c: Context, project: string | undefined): Record<string, unknown> {
  if (project === undefined) return {};
  const context = fromTraceparent(c.req.header('traceparent')) ?? fromCloudTraceContext(c.req.header('x-cloud-trace-context'));
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
async function failureFields(c: Context): Promise<Record<string, unknown>> {
  if (c.res.status < 400) return {};
  const fields: Record<string, unknown> = {};
  if (c.res.headers.get('content-type')?.includes('problem+json')) {
    const problem = (await c.res
      .clone()
      .json()
      .catch(() => undefined)) as { type?: unknown; detail?: unknown } | undefined;
    if (problem) fields.problem = { type: problem.type, detail: problem.detail };
  }
  if (c.error) fields.err = c.error;
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
