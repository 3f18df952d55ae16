import { Validator } from '@seriousme/openapi-schema-validator';
import test from 'ava';
import type { z } from 'zod';
import { appOver } from './app.test-helper.ts';
import { batchBody, checkBody, consumeBody, MAX_BATCH, rateBody } from './decision-schemas.ts';
import { openApiApi, openApiDocument } from './openapi.ts';

type Json = Record<string, unknown>;
interface Document {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json>; securitySchemes: Record<string, Json> };
}
const doc = openApiDocument() as Document;

/** Routes outside the decision API's description (their own formats: tiles, Prometheus text, AdmissionReview, HTML). */
const UNDESCRIBED = [/^\/log\//, /^\/metrics$/, /^\/admission\//, /^\/ui\b/];

test('the document is valid OpenAPI 3.1', async (t) => {
  const validator = new Validator();
  const result = await validator.validate(openApiDocument() as Record<string, unknown>);
  t.deepEqual(result, { valid: true }, JSON.stringify(result.errors, null, 2));
  t.is(validator.version, '3.1');
});

test('every route the app registers is documented, and the document names no route the app lacks', (t) => {
  const { app } = appOver([], { now: 0 });
  const registered = app.routes
    .filter((r) => r.method !== 'ALL' && !UNDESCRIBED.some((re) => re.test(r.path)))
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`);
  const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  t.true(registered.includes('POST /v1/check'), 'the app has its decision routes');
  t.deepEqual([...new Set(registered)].sort(), documented.sort());
});

test('every operation has a unique operationId and a 200; /v1 takes bearer tokens and answers problems', (t) => {
  const ids: string[] = [];
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    t.regex(String(op.operationId), /^[a-z][A-Za-z]*$/, where);
    ids.push(String(op.operationId));
    const responses = op.responses as Record<string, Json>;
    t.truthy(responses['200'], `${where} documents its 200`);
    if (!path.startsWith('/v1/')) continue;
    t.deepEqual(op.security, [{ bearerAuth: [] }], where);
    const errors = method === 'post' ? [400, 401, 413, 415, 503] : [401];
    for (const s of errors) t.deepEqual(responses[s], { $ref: `#/components/responses/E${s}` }, `${where} ${s}`);
    if (method === 'post') t.like(op.requestBody, { required: true }, where);
  }
  t.is(new Set(ids).size, ids.length, `operationIds are unique: ${ids.join(', ')}`);
  t.like(doc.components.securitySchemes, { bearerAuth: { type: 'http', scheme: 'bearer' } });
  t.like(doc.paths['/v1/tenants/{name}/entitlements']!.get!.responses, { 404: { $ref: '#/components/responses/E404' } });
  for (const [name, response] of Object.entries(doc.components.responses)) {
    t.deepEqual(Object.keys(response.content as Json), ['application/problem+json'], name);
  }
  t.regex(String(doc.components.responses.E503!.description), /log-unavailable.*/);
  t.regex(String(doc.components.responses.E503!.description), /not-ready/);
});

test('every $ref resolves, and every schema property carries a description', (t) => {
  const refs: string[] = [];
  const undescribed: string[] = [];
  const walk = (node: unknown, at: string): void => {
    if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}[${i}]`));
    if (typeof node !== 'object' || node === null) return;
    const o = node as Json;
    if (typeof o.$ref === 'string') refs.push(o.$ref);
    for (const [name, prop] of Object.entries(isAnswerProperties(at) ? o : {})) if (!described(prop as Json)) undescribed.push(`${at}.${name}`);
    for (const [k, v] of Object.entries(o)) walk(v, `${at}.${k}`);
  };
  walk(doc, '#');
  t.true(refs.length > 20);
  for (const ref of refs) t.truthy(resolve(ref), `${ref} resolves`);
  t.deepEqual(undescribed, []);
});

/** Properties of the answer schemas (the request schemas are decision-schemas.ts's: checked by their own tests). */
const isAnswerProperties = (at: string) => /^#\.components\.schemas\.\w+(\..*)?\.properties$/.test(at) && !/\.schemas\.\w+Request\./.test(at);
const described = (prop: Json) => Boolean(prop.description ?? (typeof prop.$ref === 'string' && resolve(prop.$ref)?.description));

function resolve(ref: string): Json | undefined {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const key of ref.slice(2).split('/')) node = (node as Json | undefined)?.[key];
  return node as Json | undefined;
}

/**
 * A JSON Schema evaluator for the keywords the request schemas use. It fails closed: a keyword it does not know
 * throws, so a schema that gained one cannot pass unevaluated.
 */
function accepts(schema: Json, value: unknown): boolean {
  return Object.entries(schema).every(([keyword, arg]) => {
    if (['description', 'title', 'format', 'readOnly'].includes(keyword)) return true;
    const check = KEYWORDS[keyword];
    if (!check) throw new Error(`the test's evaluator does not know the keyword ${keyword}: add it`);
    return check(arg, value, schema);
  });
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const TYPES: Record<string, (v: unknown) => boolean> = {
  object: isObject,
  array: Array.isArray,
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: Number.isInteger,
  boolean: (v) => typeof v === 'boolean',
  null: (v) => v === null,
};
/* eslint-disable @typescript-eslint/no-explicit-any -- keyword arguments are whatever the schema holds */
const KEYWORDS: Record<string, (arg: any, v: any, schema: Json) => boolean> = {
  $ref: (ref: string, v) => accepts(resolve(ref)!, v),
  type: (type: string | string[], v) => [type].flat().some((name) => TYPES[name]!(v)),
  const: (c, v) => v === c,
  enum: (values: unknown[], v) => values.includes(v),
  pattern: (re: string, v) => typeof v !== 'string' || new RegExp(re, 'u').test(v),
  minLength: (n: number, v) => typeof v !== 'string' || [...v].length >= n,
  maxLength: (n: number, v) => typeof v !== 'string' || [...v].length <= n,
  minimum: (n: number, v) => typeof v !== 'number' || v >= n,
  maximum: (n: number, v) => typeof v !== 'number' || v <= n,
  minItems: (n: number, v) => !Array.isArray(v) || v.length >= n,
  maxItems: (n: number, v) => !Array.isArray(v) || v.length <= n,
  items: (s: Json, v) => !Array.isArray(v) || v.every((x) => accepts(s, x)),
  oneOf: (ss: Json[], v) => ss.filter((s) => accepts(s, v)).length === 1,
  anyOf: (ss: Json[], v) => ss.some((s) => accepts(s, v)),
  required: (keys: string[], v) => !isObject(v) || keys.every((k) => k in v),
  properties: (ps: Record<string, Json>, v) => !isObject(v) || Object.entries(ps).every(([k, s]) => !(k in v) || accepts(s, v[k])),
  additionalProperties: (a: boolean | Json, v, schema) =>
    !isObject(v) || Object.keys(v).every((k) => k in ((schema.properties as Json | undefined) ?? {}) || (a === false ? false : a === true || accepts(a, v[k]))),
};
/* eslint-enable @typescript-eslint/no-explicit-any */

const check = { tenant: 'acme', feature: 'sso' };
const consume = { tenant: 'acme', metric: 'api-calls', amount: 5, idempotencyKey: 'req-7' };
const rate = { tenant: 'acme', name: 'requests', cost: 1 };
const SAMPLES: [string, z.ZodType, unknown[], unknown[]][] = [
  ['CheckRequest', checkBody, [check], [{ tenant: 'acme' }, { ...check, extra: 1 }, { ...check, tenant: '' }, { ...check, tenant: 'a'.repeat(254) }, { ...check, feature: 7 }, [], null]],
  ['ConsumeRequest', consumeBody, [consume, { ...consume, amount: -2, idempotencyKey: undefined }], [{ ...consume, amount: '5' }, { ...consume, idempotencyKey: '' }, { ...consume, metric: 'm'.repeat(129) }]],
  ['RateRequest', rateBody, [rate, { tenant: 'acme', name: 'requests' }], [{ ...rate, cost: null }, { ...rate, op: 'rate' }]],
  [
    'BatchRequest',
    batchBody,
    [{ decisions: [{ op: 'check', ...check }, { op: 'consume', ...consume }, { op: 'rate', ...rate }] }],
    [
      { decisions: [] },
      { decisions: [{ op: 'admit', ...check }] },
      { decisions: [{ op: 'check', ...consume }] },
      { decisions: [{ ...check }] },
      { decisions: Array.from({ length: MAX_BATCH + 1 }, () => ({ op: 'check', ...check })) },
      { decisions: [{ op: 'rate', ...rate }], extra: true },
    ],
  ],
];

for (const [name, schema, valid, invalid] of SAMPLES) {
  test(`the ${name} JSON Schema accepts and rejects what zod does`, (t) => {
    const json = doc.components.schemas[name]!;
    for (const sample of valid.map((s) => JSON.parse(JSON.stringify(s)) as unknown)) {
      t.true(schema.safeParse(sample).success, `zod accepts ${JSON.stringify(sample)}`);
      t.true(accepts(json, sample), `JSON Schema accepts ${JSON.stringify(sample)}`);
    }
    for (const sample of invalid) {
      t.false(schema.safeParse(sample).success, `zod rejects ${JSON.stringify(sample).slice(0, 80)}`);
      t.false(accepts(json, sample), `JSON Schema rejects ${JSON.stringify(sample).slice(0, 80)}`);
    }
  });
}

test('GET /openapi.json serves the document, the same bytes every time', async (t) => {
  const { app } = appOver([], { now: 0 });
  const first = await app.request('/openapi.json');
  t.is(first.status, 200);
  t.regex(first.headers.get('content-type') ?? '', /^application\/json/);
  const text = await first.text();
  t.deepEqual(JSON.parse(text), openApiDocument({ bearerAuth: false }), 'this app checks no tokens');
  t.is(await (await app.request('/openapi.json')).text(), text);
  const alone = openApiApi({ bearerAuth: false });
  t.is(await (await alone.request('/openapi.json')).text(), text);
});

test('the document says /v1 needs a bearer token only where the server checks one', (t) => {
  const security = (d: object) => Object.entries((d as Document).paths).flatMap(([path, item]) => Object.values(item).map((op) => [path, op.security]));
  for (const [path, s] of security(openApiDocument())) t.deepEqual(s, String(path).startsWith('/v1/') ? [{ bearerAuth: [] }] : undefined, String(path));
  for (const [path, s] of security(openApiDocument({ bearerAuth: false }))) t.is(s, undefined, String(path));
});

test('amount and cost are described as the server checks them: safe integers, cost ≥ 0 (the server answers 400 otherwise)', async (t) => {
  const { app } = appOver([], { now: 0 });
  const MAX = Number.MAX_SAFE_INTEGER;
  const consumeSchema = doc.components.schemas.ConsumeRequest!;
  const rateSchema = doc.components.schemas.RateRequest!;
  const batchSchema = doc.components.schemas.BatchRequest!;
  t.like((consumeSchema.properties as Json).amount, { type: 'integer', minimum: -MAX, maximum: MAX });
  t.like((rateSchema.properties as Json).cost, { type: 'integer', minimum: 0, maximum: MAX });
  for (const amount of [MAX, -MAX, 0]) t.true(accepts(consumeSchema, { ...consume, amount }), `amount ${amount}`);
  t.true(accepts(rateSchema, { ...rate, cost: 0 }));
  const refused: [string, Json, Json][] = [
    ['/v1/consume', consumeSchema, { ...consume, amount: 1.5 }],
    ['/v1/consume', consumeSchema, { ...consume, amount: MAX + 1 }],
    ['/v1/consume', consumeSchema, { ...consume, amount: -MAX - 1 }],
    ['/v1/rate', rateSchema, { ...rate, cost: -1 }],
    ['/v1/rate', rateSchema, { ...rate, cost: 0.5 }],
    ['/v1/rate', rateSchema, { ...rate, cost: 2 ** 53 }],
    ['/v1/batch', batchSchema, { decisions: [{ op: 'rate', ...rate, cost: -1 }] }],
    ['/v1/batch', batchSchema, { decisions: [{ op: 'consume', ...consume, amount: 0.25 }] }],
  ];
  for (const [path, schema, body] of refused) {
    t.false(accepts(schema, body), `the document refuses ${JSON.stringify(body)}`);
    const res = await app.request(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    t.is(res.status, 400, `${path} ${JSON.stringify(body)}: ${await res.text()}`);
  }
});

test('every request example is accepted by its schema (generators start from them)', (t) => {
  const withExamples = Object.entries(doc.paths).flatMap(([path, item]) => Object.values(item).flatMap((op) => {
    const media = (op.requestBody as { content?: Record<string, Json> } | undefined)?.content?.['application/json'];
    return media?.example === undefined ? [] : [[path, media.schema as Json, media.example] as const];
  }));
  t.is(withExamples.length, 4, 'check, consume, rate and batch');
  for (const [path, schema, example] of withExamples) t.true(accepts(schema, example), path);
});
