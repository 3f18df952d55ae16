import type { IncomingMessage, ServerResponse } from 'node:http';
import { ADMISSION_MAX_BYTES, type AppOptions } from '../app.ts';
import { answerReview } from '../admission/admission-api.ts';
import type { BearerAuth } from '../auth.ts';
import { DECISION_ROUTES, decideBody, mediaTypeRefusal, parseJsonBody } from '../decision-routes.ts';
import { meteredDecisions } from '../metrics.ts';
import { Refusal } from '../problem.ts';
import { requestIdFor } from '../request-id.ts';
import { answered, type Reached } from './lean-answer.ts';
import { leanable } from './leanable.ts';
import { BodyCutOffError, readText } from './request-body.ts';

/** Answers the request and returns true, or returns false untouched: the Hono app answers it. */
export type LeanHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

interface LeanRoute {
  /** The path, which is also its route pattern in metrics and logs. */
  path: string;
  maxBytes: number;
  /** Behind the bearer check (the app guards /v1/*). */
  guarded: boolean;
  answer(body: unknown, started: number): Promise<object | Refusal>;
}

/**
 * The hot routes — POST /v1/check, /v1/consume, /v1/rate, /v1/batch and /admission/validate — served straight from
 * node:http in front of the Hono app of `createApp(opts)`, with the same answers byte for byte (the same cores:
 * decision-routes.ts, answerReview, bearerAuth's check, problemJson), the same X-Request-Id, metrics and log
 * line, but no WHATWG Request/Response, no middleware chain and no router (issue 19: ~15 µs of ~68 per request).
 * A request it is not sure to answer as the app would — another method or path, a query, a chunked body, a
 * missing or unusual Host, a repeated header the two read differently — is left to the app before anything is
 * read. Undefined when `opts.auth` is a middleware other than bearerAuth (the app alone can run it).
 *
 * @example
 * const lean = leanRoutes(opts);
 * createServer((req, res) => lean?.(req, res) || void honoListener(req, res));
 */
export function leanRoutes(opts: AppOptions): LeanHandler | undefined {
  const check = opts.auth && (opts.auth as Partial<BearerAuth>).check;
  if (opts.auth && !check) return undefined;
  const routes = routesOf(opts);
  const now = opts.metrics?.now ?? (() => performance.now());
  const answer = answered(opts);
  return (req, res) => {
    const route = req.method === 'POST' ? routes.get(req.url!) : undefined;
    if (route === undefined || !leanable(req)) return false;
    const started = now();
    const requestId = requestIdFor(req.headers['x-request-id'] as string | undefined);
    outcome(route, req, check, started).then(
      (o) => answer(req, res, { route: route.path, requestId, started, ...o }),
      (error: unknown) => answer(req, res, { route: route.path, requestId, started, error }),
    );
    return true;
  };
}

function routesOf(opts: AppOptions): Map<string, LeanRoute> {
  const routes = new Map<string, LeanRoute>();
  const decisions = opts.metrics ? meteredDecisions(opts.decisions, opts.metrics) : opts.decisions;
  const maxBytes = opts.maxBodyBytes ?? 1024 * 1024;
  for (const [name, r] of Object.entries(DECISION_ROUTES)) {
    routes.set(`/v1/${name}`, { path: `/v1/${name}`, maxBytes, guarded: true, answer: (body) => decideBody(r, decisions, body) });
  }
  const admission = opts.admission;
  if (admission) routes.set('/admission/validate', { path: '/admission/validate', maxBytes: ADMISSION_MAX_BYTES, guarded: false, answer: (body, started) => answerReview(admission, body, started) });
  return routes;
}

/** What the app's middleware and route would answer, in their order: body limit, bearer token, media type, JSON, the route. */
async function outcome(route: LeanRoute, req: IncomingMessage, check: BearerAuth['check'] | undefined, started: number): Promise<Reached> {
  if (Number(req.headers['content-length']) > route.maxBytes) return { answer: new Refusal('payload-too-large', `request bodies are limited to ${route.maxBytes} bytes`), unread: true };
  if (route.guarded && check) {
    const caller = await check(req.headers.authorization);
    if (caller instanceof Refusal) return { answer: caller, unread: true };
  }
  const wrongType = mediaTypeRefusal(req.headers['content-type']);
  if (wrongType) return { answer: wrongType, unread: true };
  let text: string;
  try {
    text = await readText(req);
  } catch (e) {
    if (e instanceof BodyCutOffError) return { answer: new Refusal('request-timeout', e.message), unread: false };
    throw e;
  }
  const body = parseJsonBody(text);
  return { answer: body instanceof Refusal ? body : await route.answer(body, started), unread: false };
}
