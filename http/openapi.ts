import { Hono } from 'hono';
import { z } from 'zod';
import {
  batchResults,
  checkDecision,
  checkReason,
  consumeDecision,
  consumeReason,
  entitlementsDocument,
  healthAnswer,
  problemDetails,
  provenanceStep,
  rateDecision,
  rateReason,
  readinessAnswer,
  receiptRef,
  tenantExplanation,
  thresholdCrossing,
} from './decision-responses.ts';
import { batchBody, checkBody, consumeBody, rateBody } from './decision-schemas.ts';
import { PROBLEMS } from './problem.ts';

/** Every schema named under components/schemas; the others are inlined where used. */
const COMPONENTS = {
  CheckRequest: checkBody,
  ConsumeRequest: consumeBody,
  RateRequest: rateBody,
  BatchRequest: batchBody,
  CheckReason: checkReason,
  ConsumeReason: consumeReason,
  RateReason: rateReason,
  ReceiptRef: receiptRef,
  ThresholdCrossing: thresholdCrossing,
  CheckDecision: checkDecision,
  ConsumeDecision: consumeDecision,
  RateDecision: rateDecision,
  BatchResults: batchResults,
  Entitlements: entitlementsDocument,
  ProvenanceStep: provenanceStep,
  TenantExplanation: tenantExplanation,
  Readiness: readinessAnswer,
  Health: healthAnswer,
  Problem: problemDetails,
} as const;
type ComponentName = keyof typeof COMPONENTS;

const ref = (name: ComponentName) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ 'application/json': { schema } });

/** The error answers, each an RFC 9457 problem; the `type`s a client may meet are listed from PROBLEMS. */
const ERRORS = {
  400: 'The request is malformed: not JSON, a missing or unknown field, a value out of range. `detail` names the field.',
  401: 'Only where the server checks bearer tokens: the Authorization header is missing or malformed, or the token was rejected. `WWW-Authenticate` says which.',
  404: 'No such tenant (or no such route).',
  405: 'The path does not answer this method; `Allow` lists the methods it does (OPTIONS answers 204 with `Allow`).',
  413: 'The request body is larger than the server accepts (1 MiB by default).',
  409: 'Replicas share counters and the first request with this idempotencyKey is still being answered (by another replica, or this one). Nothing was decided; retry after `Retry-After` seconds to get its answer.',
  415: 'The request body is not `application/json`.',
  500: 'An unexpected error; the governor keeps serving.',
  503: 'The governor cannot answer now (no policy yet, the receipt log cannot record, or the token cannot be checked). Nothing was decided; retry.',
} as const;
type ErrorStatus = keyof typeof ERRORS;

function errorResponse(status: ErrorStatus): object {
  const kinds = Object.entries(PROBLEMS).filter(([, p]) => p.status === status);
  const types = kinds.map(([kind, p]) => `\`https://tai.dev/problems/${kind}\` (${p.title})`);
  return {
    description: types.length ? `${ERRORS[status]} Problem types: ${types.join(', ')}.` : ERRORS[status],
    ...(status === 401 ? { headers: { 'WWW-Authenticate': { description: 'The bearer challenge (RFC 6750).', schema: { type: 'string' } } } } : {}),
    ...(status === 405 ? { headers: { Allow: { description: 'The methods this path answers, e.g. `POST` or `GET, HEAD`.', required: true, schema: { type: 'string' } } } } : {}),
    content: { 'application/problem+json': { schema: ref('Problem') } },
  };
}

interface Operation {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  summary: string;
  /** Component of the JSON request body, for POSTs. */
  body?: ComponentName;
  /** A request body the sample policy (config/samples) answers, for generators and readers. */
  example?: object;
  ok: { description: string; schema: object };
  errors: ErrorStatus[];
  parameters?: object[];
  extraResponses?: Record<string, object>;
}

const DECISION_ERRORS: ErrorStatus[] = [400, 401, 405, 413, 415, 500, 503];

const EXAMPLES = {
  check: { tenant: 'acme', feature: 'sso' },
  consume: { tenant: 'acme', metric: 'api-calls', amount: 1, idempotencyKey: 'req-7' },
  rate: { tenant: 'acme', name: 'requests', cost: 1 },
};

const decision = (op: keyof typeof EXAMPLES | 'batch', body: ComponentName, answer: ComponentName, summary: string): Operation => ({
  method: 'post',
  path: `/v1/${op}`,
  operationId: op,
  summary,
  body,
  example: op === 'batch' ? { decisions: Object.entries(EXAMPLES).map(([kind, e]) => ({ op: kind, ...e })) } : EXAMPLES[op],
  ok: { description: 'The decision, with its receipt. A denial is a decision: 200 with allowed false.', schema: ref(answer) },
  errors: DECISION_ERRORS,
});

const OPERATIONS: Operation[] = [
  decision('check', 'CheckRequest', 'CheckDecision', 'May the tenant use a feature?'),
  { ...decision('consume', 'ConsumeRequest', 'ConsumeDecision', 'Consume units of a metered quota (idempotent with idempotencyKey).'), errors: [...DECISION_ERRORS, 409] },
  decision('rate', 'RateRequest', 'RateDecision', 'Take tokens from a token bucket.'),
  {
    ...decision('batch', 'BatchRequest', 'BatchResults', 'Many decisions in one call, answered in order.'),
    errors: [...DECISION_ERRORS, 409],
    ok: { description: 'One answer per decision, in the order asked.', schema: ref('BatchResults') },
  },
  {
    method: 'get',
    path: '/v1/tenants/{name}/entitlements',
    operationId: 'entitlements',
    summary: "The tenant's effective entitlements; with explain=1, each value with where it came from.",
    parameters: [
      { name: 'name', in: 'path', required: true, description: 'The tenant.', schema: { type: 'string', minLength: 1 }, example: 'acme' },
      { name: 'explain', in: 'query', required: false, description: '1 to explain every value (TenantExplanation).', schema: { type: 'string', enum: ['1'] } },
    ],
    ok: { description: 'Entitlements, or TenantExplanation with explain=1.', schema: { anyOf: [ref('Entitlements'), ref('TenantExplanation')] } },
    errors: [400, 401, 404, 405, 500],
  },
  { method: 'get', path: '/healthz', operationId: 'healthz', summary: 'Liveness: the process answers.', ok: { description: 'Alive.', schema: ref('Health') }, errors: [405] },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary: 'Readiness: a policy snapshot is served and the receipt log can write; staleness shown.',
    ok: { description: 'Ready.', schema: ref('Readiness') },
    errors: [405],
    extraResponses: { 503: { description: 'Not ready: no policy snapshot yet, the receipt log cannot write (log.error), or publishing has failed for more than 5 s (publish.error). Same body as 200.', content: json(ref('Readiness')) } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openapi',
    summary: 'This document.',
    ok: { description: 'The OpenAPI 3.1 description of this API.', schema: { type: 'object' } },
    errors: [405],
  },
];

/** What the document describes beyond the routes: whether this server checks bearer tokens on /v1. */
export interface OpenApiOptions {
  /** The /v1 operations require `bearerAuth` (default true); false for a server that checks no tokens (`--auth none`). */
  bearerAuth?: boolean;
}

function operationObject(op: Operation, o: OpenApiOptions): object {
  const responses: Record<string, object> = { 200: { description: op.ok.description, content: json(op.ok.schema) }, ...op.extraResponses };
  for (const status of op.errors) responses[status] = { $ref: `#/components/responses/E${status}` };
  return {
    operationId: op.operationId,
    summary: op.summary,
    tags: [op.path.startsWith('/v1/') ? 'decisions' : 'operations'],
    ...(op.parameters ? { parameters: op.parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: ref(op.body), ...(op.example ? { example: op.example } : {}) } } } } : {}),
    ...(op.path.startsWith('/v1/') && o.bearerAuth !== false ? { security: [{ bearerAuth: [] }] } : {}),
    responses,
  };
}

/**
 * What the decision path checks beyond the zod request schemas (governor/decision-input-error.ts): `amount`
 * and `cost` are safe integers, and `cost` is 0 or more. A request outside these bounds is answered 400.
 */
const NUMBER_BOUNDS: Record<string, { minimum: number; maximum: number }> = {
  amount: { minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER },
  cost: { minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
};

type JsonNode = Record<string, unknown>;

/** Replaces `type: number` of the bounded request fields, wherever they sit (batch items too), in place. */
function describeIntegerFields(node: unknown): void {
  if (Array.isArray(node)) return node.forEach(describeIntegerFields);
  if (typeof node !== 'object' || node === null) return;
  const properties = (node as JsonNode).properties as Record<string, JsonNode> | undefined;
  for (const [name, bounds] of Object.entries(NUMBER_BOUNDS)) {
    const field = properties?.[name];
    if (field?.type === 'number') Object.assign(field, { type: 'integer', ...bounds });
  }
  Object.values(node).forEach(describeIntegerFields);
}

/** The JSON Schemas (draft 2020-12, OpenAPI 3.1's dialect) of COMPONENTS, cross-referenced by $ref. */
function componentSchemas(): Record<string, object> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, { target: 'draft-2020-12', io: 'input', uri: (id) => `#/components/schemas/${id}` });
  for (const [id, schema] of Object.entries(schemas)) if (id.endsWith('Request')) describeIntegerFields(schema);
  // Each is emitted as a standalone document; inside an OpenAPI document the dialect and location are implied.
  return Object.fromEntries(Object.entries(schemas).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema]));
}

/**
 * The decision API as an OpenAPI 3.1.0 document (design §4), built from the same zod schemas that validate
 * requests and that the typed client validates answers with. A new object on every call. With
 * `bearerAuth: false` (a server that checks no tokens) the /v1 operations carry no security requirement.
 */
export function openApiDocument(o: OpenApiOptions = {}): object {
  const paths: Record<string, Record<string, object>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op, o);
  const statuses = Object.keys(ERRORS).map(Number) as ErrorStatus[];
  return {
    openapi: '3.1.0',
    info: {
      title: 'TAI decision API',
      version: 'v1',
      summary: 'Entitlement decisions (check, consume, rate) with verifiable receipts.',
      description:
        'A denial is a decision (200, allowed false); a malformed request is an error (4xx application/problem+json, RFC 9457). ' +
        'Every decision answer carries its receipt {index, leafHash} in the receipt log. Answers may gain fields; existing ones do not change.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [
      { name: 'decisions', description: 'The decision API under /v1.' },
      { name: 'operations', description: 'Health, readiness and this document.' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      responses: Object.fromEntries(statuses.map((s) => [`E${s}`, errorResponse(s)])),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'A Kubernetes service account token (checked by TokenReview) or a token from the token file. Embedded mode, on loopback, does not check tokens.',
        },
      },
    },
  };
}

/**
 * Serves `GET /openapi.json`: the document is built on the first request and the same bytes are served after.
 *
 * @example
 * app.route('/', openApiApi({ bearerAuth: opts.auth !== undefined }));
 */
export function openApiApi(o: OpenApiOptions = {}): Hono {
  const app = new Hono();
  let body: string | undefined;
  app.get('/openapi.json', (c) => {
    body ??= JSON.stringify(openApiDocument(o));
    return c.body(body, 200, { 'content-type': 'application/json' });
  });
  return app;
}
