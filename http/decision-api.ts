import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import {
  DecisionInputError,
  IdempotencyKeyInFlightError,
  effectiveDocument,
  explainTenant,
  rfc3339,
  type CheckDecision,
  type CheckRequest,
  type CompiledTenant,
  type ConsumeDecision,
  type ConsumeRequest,
  type Decision,
  type DecisionRequest,
  type RateDecision,
  type RateRequest,
} from '../governor/index.ts';
import { LogUnavailableError } from '../receipts/store/index.ts';
import { batchBody, checkBody, consumeBody, describeIssues, rateBody } from './decision-schemas.ts';
import { problem } from './problem.ts';
import type { ReceiptRef } from '../recording/recorded-governor.ts';

/**
 * A decision as the API answers it (design §4): the governor's decision, with where its receipt sits in the log
 * when the service records receipts (a RecordedGovernor always does).
 */
export type DecisionAnswer<D extends Decision = Decision> = D & { receipt?: ReceiptRef };

/** A decision as it leaves the process: a consume's window start is RFC 3339 text there, ms inside (design §4). */
export type WireAnswer<D extends Decision = Decision> = D extends ConsumeDecision
  ? Omit<DecisionAnswer<D>, 'windowStart'> & { windowStart: string | null }
  : DecisionAnswer<D>;

/** The wire form of an answer: a copy where a consume's window start is formatted; the decision is left as held. */
export function wireAnswer<D extends Decision>(d: DecisionAnswer<D>): WireAnswer<D>;
export function wireAnswer(d: DecisionAnswer): WireAnswer {
  if (d.op !== 'consume') return d;
  // Spreading keeps the key order of the answer: windowStart is replaced where it stands.
  return { ...d, windowStart: d.windowStart === null ? null : rfc3339(d.windowStart) };
}

/** An answer now (the Governor) or once its receipt is written (a RecordedGovernor). */
export type Answering<T> = T | Promise<T>;

/** What answers decisions: the Governor itself, or a RecordedGovernor that appends receipts first. */
export interface DecisionService {
  check(r: CheckRequest): Answering<DecisionAnswer<CheckDecision>>;
  consume(r: ConsumeRequest): Answering<DecisionAnswer<ConsumeDecision>>;
  rate(r: RateRequest): Answering<DecisionAnswer<RateDecision>>;
  batch(rs: readonly DecisionRequest[]): Answering<DecisionAnswer[]>;
}

export interface DecisionApiOptions {
  decisions: DecisionService;
  /** The tenant's compiled entitlements now, for the entitlements endpoint. */
  tenant: (name: string) => CompiledTenant | undefined;
}

/**
 * The decision API of design §4. A denial is a decision (200, allowed:false); a malformed request is a 400
 * problem+json naming the field.
 */
export function decisionApi(opts: DecisionApiOptions): Hono {
  const app = new Hono();
  const { decisions } = opts;
  app.post('/check', (c) => decide(c, checkBody, async (b) => wireAnswer(await decisions.check(b))));
  app.post('/consume', (c) => decide(c, consumeBody, async (b) => wireAnswer(await decisions.consume(b))));
  app.post('/rate', (c) => decide(c, rateBody, async (b) => wireAnswer(await decisions.rate(b))));
  app.post('/batch', (c) => decide(c, batchBody, async (b) => ({ results: (await decisions.batch(b.decisions)).map(wireAnswer) })));
  app.get('/tenants/:name/entitlements', (c) => {
    const name = c.req.param('name');
    const tenant = opts.tenant(name);
    const explain = c.req.queries('explain');
    if (explain !== undefined && (explain.length !== 1 || explain[0] !== '1')) {
      return problem(c, 'invalid-request', `explain: expected explain=1 (once) or no explain parameter, got ${JSON.stringify(explain)}`);
    }
    if (!tenant) return problem(c, 'unknown-tenant', `tenant "${name}" is not defined`);
    return c.json(explain ? explainTenant(tenant) : { tenant: name, digest: tenant.digest, ...effectiveDocument(tenant) });
  });
  return app;
}

async function decide<S extends z.ZodType>(c: Context, schema: S, run: (body: z.infer<S>) => Answering<object>): Promise<Response> {
  const body = await readJson(c);
  if (body instanceof Response) return body;
  const parsed = schema.safeParse(body);
  if (!parsed.success) return problem(c, 'invalid-request', describeIssues(parsed.error));
  try {
    return c.json(await run(parsed.data));
  } catch (e) {
    if (e instanceof DecisionInputError) return problem(c, 'invalid-request', e.message);
    if (e instanceof LogUnavailableError) return logUnavailable(c, e);
    if (e instanceof IdempotencyKeyInFlightError) {
      c.header('retry-after', '1');
      return problem(c, 'idempotency-key-in-flight', e.message);
    }
    throw e;
  }
}

/** 503: refused before deciding (nothing changed), or decided but not on disk (the outcome is unknown). */
function logUnavailable(c: Context, e: LogUnavailableError): Response {
  c.header('retry-after', '1');
  return problem(c, 'log-unavailable', e.outcome === 'refused' ? `${e.message}; nothing was decided` : e.message);
}

/** Parses a JSON body or answers the precise problem (415 not JSON, 400 malformed). */
export async function readJson(c: Context): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) return problem(c, 'unsupported-media-type', `content-type must be application/json, got ${JSON.stringify(type || '(none)')}`);
  const text = await c.req.text();
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return problem(c, 'invalid-request', `body is not valid JSON: ${(e as Error).message}`);
  }
}
