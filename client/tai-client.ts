import { z } from 'zod';
import {
  batchResults,
  checkDecision,
  consumeDecision,
  entitlementsDocument,
  healthAnswer,
  problemDetails,
  rateDecision,
  readinessAnswer,
  tenantExplanation,
} from '../http/decision-responses.ts';
import { describeIssues, fieldPath, type batchBody, type checkBody, type consumeBody, type rateBody } from '../http/decision-schemas.ts';

export type CheckInput = z.input<typeof checkBody>;
export type ConsumeInput = z.input<typeof consumeBody>;
export type RateInput = z.input<typeof rateBody>;
export type BatchInput = z.input<typeof batchBody>;
export type CheckAnswer = z.output<typeof checkDecision>;
export type ConsumeAnswer = z.output<typeof consumeDecision>;
export type RateAnswer = z.output<typeof rateDecision>;
export type BatchAnswer = z.output<typeof batchResults>;
export type EntitlementsAnswer = z.output<typeof entitlementsDocument>;
export type ExplainAnswer = z.output<typeof tenantExplanation>;
export type ReadinessAnswer = z.output<typeof readinessAnswer>;
export type HealthAnswer = z.output<typeof healthAnswer>;
export type ProblemDetails = z.output<typeof problemDetails>;

const openApiShape = z.looseObject({ openapi: z.string().startsWith('3.1'), paths: z.record(z.string(), z.unknown()) });
export type OpenApiAnswer = z.output<typeof openApiShape>;

/** What sends a request: the global fetch, or anything shaped like it (e.g. a Hono app's `request`). */
export type FetchLike = (input: string, init: RequestInit) => Response | Promise<Response>;

export interface TaiClientOptions {
  /** Where the governor listens, e.g. `http://127.0.0.1:8080`; a path prefix is kept. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer TOKEN` (a service account token, or one from the server's token file). */
  token?: string;
  /** Defaults to the global fetch. */
  fetch?: FetchLike;
  /** Sent with every request (after the defaults, before Authorization). */
  headers?: Record<string, string>;
}

/** The server answered an RFC 9457 problem (4xx/5xx): `problem.detail` says what to fix. */
export class TaiProblemError extends Error {
  readonly problem: ProblemDetails;
  /** The HTTP status the server answered. */
  readonly status: number;
  /** e.g. `POST /v1/check`. */
  readonly endpoint: string;

  constructor(endpoint: string, status: number, problem: ProblemDetails) {
    super(`${endpoint} answered ${status} ${problem.title}: ${problem.detail}`);
    this.name = 'TaiProblemError';
    this.endpoint = endpoint;
    this.status = status;
    this.problem = problem;
  }

  get type(): string {
    return this.problem.type;
  }

  get title(): string {
    return this.problem.title;
  }

  get detail(): string {
    return this.problem.detail;
  }
}

/** A successful answer did not match the API's schema: the server and this client disagree (version drift). */
export class TaiResponseError extends Error {
  readonly endpoint: string;
  /** The first field that did not match, e.g. `results[0].reason`; `(body)` when the body is not JSON at all. */
  readonly field: string;

  constructor(endpoint: string, field: string, detail: string) {
    super(`${endpoint} answered a body this client cannot read (a server of another version?): ${detail}`);
    this.name = 'TaiResponseError';
    this.endpoint = endpoint;
    this.field = field;
  }
}

interface Call<S extends z.ZodType> {
  method: 'GET' | 'POST';
  path: string;
  schema: S;
  body?: unknown;
  /** Besides 2xx, statuses whose JSON body is an answer rather than a problem (readyz's 503). */
  answerStatuses?: readonly number[];
}

/**
 * A typed client of the TAI decision API (design §4; the same schemas as `/openapi.json`). Requests are sent
 * as given (the server validates them); answers are checked against the API's schemas, so a server that
 * drifted fails loudly with a {@link TaiResponseError}. An error answer throws a {@link TaiProblemError}.
 * A denial is not an error: it answers `allowed: false` with a reason.
 *
 * @example
 * const tai = new TaiClient({ baseUrl: 'http://127.0.0.1:8080', token: process.env.TAI_TOKEN });
 * const { allowed, reason } = await tai.consume({ tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'req-7' });
 * if (!allowed) throw new Error(`over quota: ${reason}`);
 */
export class TaiClient {
  readonly #base: string;
  readonly #fetch: FetchLike;
  readonly #headers: Record<string, string>;

  constructor(opts: TaiClientOptions) {
    if (!/^https?:$/.test(URL.parse(opts.baseUrl)?.protocol ?? '')) {
      throw new TypeError(`TaiClient: baseUrl must be an absolute http(s) URL such as http://127.0.0.1:8080, got ${JSON.stringify(opts.baseUrl)}`);
    }
    this.#base = opts.baseUrl.replace(/\/+$/, '');
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#headers = {
      accept: 'application/json, application/problem+json',
      ...opts.headers,
      ...(opts.token === undefined ? {} : { authorization: `Bearer ${opts.token}` }),
    };
  }

  /** May the tenant use a feature? */
  check(request: CheckInput): Promise<CheckAnswer> {
    return this.#call({ method: 'POST', path: '/v1/check', schema: checkDecision, body: request });
  }

  /** Consumes `amount` units of a metered quota; with `idempotencyKey`, a retry returns the first answer. */
  consume(request: ConsumeInput): Promise<ConsumeAnswer> {
    return this.#call({ method: 'POST', path: '/v1/consume', schema: consumeDecision, body: request });
  }

  /** Takes `cost` tokens (default 1) from a token bucket. */
  rate(request: RateInput): Promise<RateAnswer> {
    return this.#call({ method: 'POST', path: '/v1/rate', schema: rateDecision, body: request });
  }

  /** Many decisions in one call; `results` answers them in order. */
  batch(request: BatchInput): Promise<BatchAnswer> {
    return this.#call({ method: 'POST', path: '/v1/batch', schema: batchResults, body: request });
  }

  /** The tenant's effective entitlements; with `{ explain: true }`, each value with where it came from. */
  entitlements(name: string, opts: { explain: true }): Promise<ExplainAnswer>;
  entitlements(name: string, opts?: { explain?: false }): Promise<EntitlementsAnswer>;
  entitlements(name: string, opts?: { explain?: boolean }): Promise<EntitlementsAnswer | ExplainAnswer>;
  entitlements(name: string, opts: { explain?: boolean } = {}): Promise<EntitlementsAnswer | ExplainAnswer> {
    const path = `/v1/tenants/${encodeURIComponent(name)}/entitlements`;
    if (opts.explain === true) return this.#call({ method: 'GET', path: `${path}?explain=1`, schema: tenantExplanation });
    return this.#call({ method: 'GET', path, schema: entitlementsDocument });
  }

  /** Liveness. */
  healthz(): Promise<HealthAnswer> {
    return this.#call({ method: 'GET', path: '/healthz', schema: healthAnswer });
  }

  /** Readiness; a not-ready server (503) is an answer here, not an error: look at `ready`. */
  readyz(): Promise<ReadinessAnswer> {
    return this.#call({ method: 'GET', path: '/readyz', schema: readinessAnswer, answerStatuses: [503] });
  }

  /** The server's OpenAPI 3.1 document. */
  openapi(): Promise<OpenApiAnswer> {
    return this.#call({ method: 'GET', path: '/openapi.json', schema: openApiShape });
  }

  async #call<S extends z.ZodType>(call: Call<S>): Promise<z.output<S>> {
    const endpoint = `${call.method} ${call.path.replace(/\?.*/, '')}`;
    const headers = call.body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' };
    const init: RequestInit = { method: call.method, headers, ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }) };
    const res = await this.#fetch(this.#base + call.path, init);
    const text = await res.text();
    if (!isAnswer(res, call.answerStatuses)) throw problemError(endpoint, res, text);
    return readAnswer(endpoint, call.schema, text);
  }
}

function isAnswer(res: Response, answerStatuses: readonly number[] = []): boolean {
  if (res.ok) return true;
  return answerStatuses.includes(res.status) && !/problem\+json/i.test(res.headers.get('content-type') ?? '');
}

function readAnswer<S extends z.ZodType>(endpoint: string, schema: S, text: string): z.output<S> {
  const body = parseJson(text);
  if (body === undefined) throw new TaiResponseError(endpoint, '(body)', `not JSON: ${JSON.stringify(text.slice(0, 200))}`);
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new TaiResponseError(endpoint, fieldPath(parsed.error.issues[0]?.path ?? []), describeIssues(parsed.error));
}

/** The problem the server sent; a body that is not one (a proxy's HTML page, say) becomes an `about:blank` problem. */
function problemError(endpoint: string, res: Response, text: string): TaiProblemError {
  const parsed = problemDetails.safeParse(parseJson(text));
  const problem = parsed.success
    ? parsed.data
    : { type: 'about:blank', title: res.statusText || `HTTP ${res.status}`, status: res.status, detail: text.slice(0, 500) || '(empty body)' };
  return new TaiProblemError(endpoint, res.status, problem);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
