import type { z } from 'zod';
import {
  DecisionInputError,
  IdempotencyKeyInFlightError,
  rfc3339,
  type CheckDecision,
  type CheckRequest,
  type ConsumeDecision,
  type ConsumeRequest,
  type Decision,
  type DecisionRequest,
  type RateDecision,
  type RateRequest,
} from '../governor/index.ts';
import type { ReceiptRef } from '../recording/recorded-governor.ts';
import { LogUnavailableError } from '../receipts/store/index.ts';
import { FAST_CHECK, FAST_CONSUME, FAST_RATE, fastParse, type FastShape } from './decision-fast-check.ts';
import { batchBody, checkBody, consumeBody, describeIssues, rateBody } from './decision-schemas.ts';
import { Refusal } from './problem.ts';

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

/**
 * The decision routes of design §4 as cores without a framework: a parsed JSON body in, the answer (to be sent
 * as JSON) or a Refusal out. The Hono app (decision-api.ts) and the lean routes (lean/) both answer through
 * these, so they cannot drift apart.
 */
export interface DecisionRoute<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** A hand-written check accepting exactly what the schema accepts; zod runs (and words the 400) when it says no. */
  fast?: FastShape;
  run(decisions: DecisionService, body: z.infer<S>): Answering<object>;
}

const route = <S extends z.ZodType>(schema: S, run: DecisionRoute<S>['run'], fast?: FastShape): DecisionRoute =>
  ({ schema, run, fast }) as DecisionRoute;

export const DECISION_ROUTES = {
  check: route(checkBody, async (d, b) => wireAnswer(await d.check(b)), FAST_CHECK),
  consume: route(consumeBody, async (d, b) => wireAnswer(await d.consume(b)), FAST_CONSUME),
  rate: route(rateBody, async (d, b) => wireAnswer(await d.rate(b)), FAST_RATE),
  batch: route(batchBody, async (d, b) => ({ results: (await d.batch(b.decisions)).map(wireAnswer) })),
} as const satisfies Record<string, DecisionRoute>;

/** Decides a parsed body: the answer, or the refusal a client can act on; any other error is thrown. */
export async function decideBody(r: DecisionRoute, decisions: DecisionService, body: unknown): Promise<object | Refusal> {
  const fast = r.fast && fastParse(r.fast, body);
  const parsed = fast ? { success: true as const, data: fast } : r.schema.safeParse(body);
  if (!parsed.success) return new Refusal('invalid-request', describeIssues(parsed.error));
  try {
    return await r.run(decisions, parsed.data);
  } catch (e) {
    return decisionRefusal(e);
  }
}

const RETRY_SOON = { 'retry-after': '1' } as const;

function decisionRefusal(e: unknown): Refusal {
  if (e instanceof DecisionInputError) return new Refusal('invalid-request', e.message);
  // 503: refused before deciding (nothing changed), or decided but not on disk (the outcome is unknown).
  if (e instanceof LogUnavailableError) return new Refusal('log-unavailable', e.outcome === 'refused' ? `${e.message}; nothing was decided` : e.message, RETRY_SOON);
  if (e instanceof IdempotencyKeyInFlightError) return new Refusal('idempotency-key-in-flight', e.message, RETRY_SOON);
  throw e;
}

const JSON_MEDIA_TYPE = /^application\/([a-z.+-]*\+)?json\b/i;

/** 415 unless the content type is JSON (`application/json`, `application/merge-patch+json`, …). */
export function mediaTypeRefusal(type: string | undefined): Refusal | undefined {
  if (type !== undefined && JSON_MEDIA_TYPE.test(type)) return undefined;
  return new Refusal('unsupported-media-type', `content-type must be application/json, got ${JSON.stringify(type || '(none)')}`);
}

/** The parsed body, or a 400 naming the JSON error. */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    return new Refusal('invalid-request', `body is not valid JSON: ${(e as Error).message}`);
  }
}
