import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { bodyLimit } from './body-limit.ts';
import { admissionApi, type AdmissionApiOptions } from './admission/admission-api.ts';
import { decisionApi, type DecisionApiOptions } from './decision-api.ts';
import type { Readiness } from '../readiness/index.ts';
import { healthApi } from './health.ts';
import { logApi } from './log-api.ts';
import { unroutedAnswer } from './method-not-allowed.ts';
import { requestLog, type Logger } from './logger.ts';
import { httpMetrics, meteredDecisions, metricsApi, type ServerMetrics } from './metrics.ts';
import { openApiApi } from './openapi.ts';
import { problem } from './problem.ts';
import { nextRequestId } from './request-id.ts';
import { uiApi, type UiOptions } from './ui/ui-api.ts';

export interface AppOptions extends DecisionApiOptions {
  readiness: () => Readiness;
  /** Folder of the published receipt log, served read-only under /log/. */
  logDir?: string;
  /** Largest request body accepted, in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  /** Where unexpected errors are reported (they answer 500 and the process lives on). */
  onError?: (error: unknown, path: string) => void;
  /** Serves GET /metrics, counts every request by route, and times and counts the decisions. */
  metrics?: ServerMetrics;
  /** Guards the decision API (/v1/*): bearer tokens (http/auth.ts). Absent: no authentication (loopback only). */
  auth?: MiddlewareHandler;
  /** Serves POST /admission/validate (cluster mode: the admission webhook). */
  admission?: AdmissionApiOptions;
  /** Logs a JSON line per request (debug; warn for 4xx, error for 5xx). */
  logger?: Logger;
  /** Serves the dashboard at /ui (http/ui/). */
  ui?: UiOptions;
}

/** Largest AdmissionReview accepted: twice the API server's 3 MiB request limit, plus the envelope. */
export const ADMISSION_MAX_BYTES = 7 * 1024 * 1024;

/** The HTTP surface of design §4, as one Hono app (served by @hono/node-server; tested with app.request). */
export function createApp(opts: AppOptions): Hono {
  const app = new Hono();
  const maxSize = opts.maxBodyBytes ?? 1024 * 1024;
  app.use(requestId({ generator: nextRequestId }));
  if (opts.logger) app.use(requestLog(opts.logger));
  if (opts.metrics) app.use(httpMetrics(opts.metrics));
  const limit = (bytes: number): MiddlewareHandler => bodyLimit(bytes, (c) => problem(c, 'payload-too-large', `request bodies are limited to ${bytes} bytes`));
  // An AdmissionReview carries the object and its old version, each up to the API server's 3 MiB request limit.
  const [decisionLimit, reviewLimit] = [limit(maxSize), limit(ADMISSION_MAX_BYTES)];
  app.use((c, next) => (c.req.path.startsWith('/admission/') ? reviewLimit(c, next) : decisionLimit(c, next)));
  if (opts.auth) app.use('/v1/*', opts.auth);
  app.route('/', healthApi(opts.readiness));
  app.route('/', openApiApi({ bearerAuth: opts.auth !== undefined }));
  app.route('/v1', decisionApi(opts.metrics ? { ...opts, decisions: meteredDecisions(opts.decisions, opts.metrics) } : opts));
  if (opts.admission) app.route('/admission', admissionApi(opts.admission));
  if (opts.metrics) app.route('/', metricsApi(opts.metrics));
  if (opts.logDir !== undefined) app.route('/log', logApi(opts.logDir));
  if (opts.ui) app.route('/ui', uiApi(opts.ui));
  app.notFound((c) => unroutedAnswer(c, app.routes));
  app.onError((error, c) => {
    // The client went away (or was cut off by the listener's timeout) while its body was being read: nothing to
    // answer and nothing wrong with the governor; the answer below is never sent.
    if (c.req.raw.signal.aborted) return problem(c, 'request-timeout', 'the connection closed before the request arrived whole');
    opts.onError?.(error, c.req.path);
    return problem(c, 'internal', `unexpected error (request ${c.get('requestId')}); the governor keeps serving`);
  });
  return app;
}
