import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An RFC 9457 problem detail. `type` is a stable URI per kind of problem. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
}

const PROBLEM_BASE = 'https://tai.dev/problems/';

/** Error kinds a client may see, with their status and title. */
export const PROBLEMS = {
  'invalid-request': { status: 400, title: 'The request is malformed' },
  'unknown-tenant': { status: 404, title: 'No such tenant' },
  'not-found': { status: 404, title: 'No such resource' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'request-timeout': { status: 408, title: 'The request took too long to arrive' },
  'idempotency-key-in-flight': { status: 409, title: 'The first request with this idempotencyKey is still being answered' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The request body must be JSON' },
  'request-header-too-large': { status: 431, title: 'The request headers are too large' },
  'not-ready': { status: 503, title: 'The governor has no policy yet' },
  'log-unavailable': { status: 503, title: 'The receipt log cannot record decisions' },
  unauthorized: { status: 401, title: 'A valid bearer token is required' },
  'auth-unavailable': { status: 503, title: 'The bearer token cannot be checked now' },
  internal: { status: 500, title: 'Internal error' },
  'method-not-implemented': { status: 501, title: 'Method not implemented' },
} as const satisfies Record<string, { status: number; title: string }>;
export type ProblemKind = keyof typeof PROBLEMS;

/** Answers with application/problem+json. */
export function problem(c: Context, kind: ProblemKind, detail: string): Response {
  return c.body(problemJson(kind, detail, c.req.path), PROBLEMS[kind].status as ContentfulStatusCode, { 'content-type': PROBLEM_CONTENT_TYPE });
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The problem's JSON text, as every answer of the app and of the lean decision routes (http/lean/) carries it. */
export function problemJson(kind: ProblemKind, detail: string, instance: string): string {
  const { status, title } = PROBLEMS[kind];
  const body: Problem = { type: PROBLEM_BASE + kind, title, status, detail, instance };
  return JSON.stringify(body);
}

/**
 * A request refused with a problem, as the core of a route returns it (the app's and the lean routes' adapters
 * write it): its kind, the detail, and headers the refusal needs (`retry-after`, `WWW-Authenticate`).
 */
export class Refusal {
  readonly kind: ProblemKind;
  readonly detail: string;
  readonly headers: Readonly<Record<string, string>> | undefined;

  constructor(kind: ProblemKind, detail: string, headers?: Readonly<Record<string, string>>) {
    this.kind = kind;
    this.detail = detail;
    this.headers = headers;
  }
}

/** Answers a refusal: its headers, then the problem. */
export function refuse(c: Context, r: Refusal): Response {
  if (r.headers) for (const [name, value] of Object.entries(r.headers)) c.header(name, value);
  return problem(c, r.kind, r.detail);
}
