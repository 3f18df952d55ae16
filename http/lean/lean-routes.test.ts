// The lean routes answer exactly as the Hono app: the same corpus of requests (valid, malformed, refused,
// unauthenticated, too large, failing, replayed) goes to a server with the lean routes and to one without, each
// over its own fresh state, and status, headers, bodies, metrics, log lines and reported errors must match byte
// for byte (the Date header and generated request ids aside).
import test from 'ava';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CompiledPolicy, DecisionInputError, Governor, PolicyCompiler, type DecisionRequest } from '../../governor/index.ts';
import { IdempotencyKeyInFlightError } from '../../governor/shared-governor.ts';
import { skuOf, tenantOf } from '../../governor/policy-fixtures.test-helper.ts';
import { LogUnavailableError, ReceiptLog } from '../../receipts/store/index.ts';
import { RecordedGovernor } from '../../recording/recorded-governor.ts';
import { listenOn, type Listener } from '../../server/http-listener.ts';
import { admissionLog } from '../admission/admission-log.ts';
import { admissionOver, namespace, pod } from '../admission/admission.test-helper.ts';
import { createApp, type AppOptions } from '../app.ts';
import { AuthUnavailableError, bearerAuth } from '../auth.ts';
import type { DecisionService } from '../decision-api.ts';
import { createLogger } from '../logger.ts';
import { ServerMetrics } from '../metrics.ts';
import { leanRoutes } from './lean-routes.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const clock = { now: () => NOW };
const MAX_BODY = 2048;

/** Tenants whose decisions fail the way the governor, the log or a shared store can fail. */
function failing(service: DecisionService): DecisionService {
  const fail = (r: { tenant: string }): void => {
    if (r.tenant === 'log-down') throw new LogUnavailableError('the receipt log cannot write (ENOSPC)', 'unknown');
    if (r.tenant === 'log-refused') throw new LogUnavailableError('the receipt log cannot write (EIO)');
    if (r.tenant === 'in-flight') throw new IdempotencyKeyInFlightError('the first request with idempotencyKey "k" is still being answered');
    if (r.tenant === 'bad-input') throw new DecisionInputError('amount', 'must be a safe integer');
    if (r.tenant === 'boom') throw new Error('a bug');
  };
  return {
    check: async (r) => (fail(r), service.check(r)),
    consume: async (r) => (fail(r), service.consume(r)),
    rate: async (r) => (fail(r), service.rate(r)),
    batch: async (rs: readonly DecisionRequest[]) => (rs.forEach(fail), service.batch(rs)),
  };
}

interface Side {
  listener: Listener;
  agent: Agent;
  metrics: ServerMetrics;
  lines: string[];
  errors: string[];
}

async function side(t: { teardown: (f: () => Promise<void> | void) => void }, lean: boolean): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-lean-'));
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock });
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: [skuOf('growth', { features: { sso: true, seats: 5 }, quotas: { 'api-calls': { limit: 10 } }, rates: { requests: { perSecond: 1, burst: 2 } } }), tenantOf('acme', { sku: 'growth' })] }, NOW);
  const policy = new CompiledPolicy(compiler);
  const metrics = new ServerMetrics({ now: () => 0 });
  const lines: string[] = [];
  const errors: string[] = [];
  const destination = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
  const verifier = { verify: async (token: string) => (token === 'good' ? { name: 'alice', groups: [] } : token === 'flaky' ? Promise.reject(new AuthUnavailableError('the API server is unreachable')) : undefined) };
  const admission = admissionOver();
  admission.deliver('namespaces', namespace('umb', { 'tai.dev/tenant': 'umbrella' }));
  const opts: AppOptions = {
    decisions: failing(new RecordedGovernor(new Governor({ policy, clock }), log)),
    tenant: (n) => policy.tenant(n, NOW),
    readiness: () => ({ ready: true, generation: 1, tenants: 1, problems: 0, staleMs: 0, source: 'test' }),
    maxBodyBytes: MAX_BODY,
    metrics,
    logger: createLogger({ level: 'debug', destination, base: null, now: () => NOW }),
    auth: bearerAuth({ verifier }),
    admission: { controller: admission.controller, ...admissionLog(log) },
    onError: (e, path) => errors.push(`${path}: ${(e as Error).message}`),
  };
  const listener = await listenOn(createApp(opts).fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io: { out: () => undefined, err: () => undefined }, lean: lean ? leanRoutes(opts) : undefined });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(async () => {
    agent.destroy();
    await listener.close();
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { listener, agent, metrics, lines, errors };
}

interface Sent {
  path: string;
  body: string | undefined;
  headers?: Record<string, string>;
  chunked?: boolean;
}

interface Got {
  status: number | undefined;
  headers: string[];
  body: string;
}

const GENERATED_ID = /^[0-9a-f]{12}-[0-9a-z]+$/;

function send(s: Side, r: Sent): Promise<Got> {
  const { port } = new URL(s.listener.url);
  const headers = { host: 'tai.test', authorization: 'Bearer good', 'content-type': 'application/json', ...r.headers };
  for (const [k, v] of Object.entries(headers)) if (v === '') delete headers[k as keyof typeof headers];
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: r.path, method: 'POST', agent: s.agent, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const raw = res.rawHeaders.map((v, i) => (i % 2 === 1 && GENERATED_ID.test(v) ? '(generated)' : v));
        const dropDate = raw.flatMap((v, i) => (i % 2 === 0 && v === 'Date') || (i % 2 === 1 && raw[i - 1] === 'Date') ? [] : [v]);
        resolve({ status: res.statusCode, headers: dropDate, body });
      });
    });
    req.on('error', reject);
    if (r.chunked) {
      req.write(r.body ?? '');
      req.end();
    } else req.end(r.body);
  });
}

const json = (path: string, body: unknown, headers?: Record<string, string>): Sent => ({ path, body: JSON.stringify(body), ...(headers && { headers }) });
const review = (request: object) => ({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request });
const podReview = (uid: string, ns: string) => review({ uid, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: ns, operation: 'CREATE', object: pod(ns, 'web') });

const CORPUS: Sent[] = [
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { 'x-request-id': 'caller-1' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }),
  json('/v1/check', { tenant: 'nobody', feature: 'sso' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso', extra: 1 }),
  json('/v1/check', { tenant: '', feature: 'sso' }),
  json('/v1/check', { tenant: 'acme\ud800', feature: 'sso' }),
  json('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 3, idempotencyKey: 'k1' }, { 'x-request-id': 'caller-2', 'user-agent': 'corpus/1' }),
  json('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 3, idempotencyKey: 'k1' }),
  json('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 30 }),
  json('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: 1.5 }),
  json('/v1/consume', { tenant: 'acme', metric: 'api-calls', amount: '1' }),
  json('/v1/rate', { tenant: 'acme', name: 'requests' }),
  json('/v1/rate', { tenant: 'acme', name: 'requests', cost: 5 }),
  json('/v1/batch', { decisions: [{ op: 'check', tenant: 'acme', feature: 'sso' }, { op: 'consume', tenant: 'acme', metric: 'api-calls', amount: 1 }, { op: 'rate', tenant: 'acme', name: 'requests' }] }),
  json('/v1/batch', { decisions: [{ op: 'check', tenant: 'acme' }, { op: 'nope' }] }),
  json('/v1/batch', { decisions: [] }),
  { path: '/v1/check', body: '{"tenant":' },
  { path: '/v1/check', body: '' },
  { path: '/v1/check', body: '\ufeff{"tenant":"acme","feature":"sso"}' },
  { path: '/v1/check', body: '{"tenant":"acme","feature":"sso"}', headers: { 'content-type': 'text/plain' } },
  { path: '/v1/check', body: '{"tenant":"acme","feature":"sso"}', headers: { 'content-type': '' } },
  { path: '/v1/check', body: '{"tenant":"acme","feature":"sso"}', headers: { 'content-type': 'application/merge-patch+json; charset=utf-8' } },
  { path: '/v1/check', body: JSON.stringify({ tenant: 'acme', feature: 'x'.repeat(MAX_BODY) }) },
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { 'x-request-id': 'after-413' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { authorization: '' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { authorization: 'Basic abc' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { authorization: 'Bearer nope' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { authorization: 'Bearer flaky' }),
  json('/v1/consume', { tenant: 'log-down', metric: 'api-calls', amount: 1 }),
  json('/v1/consume', { tenant: 'log-refused', metric: 'api-calls', amount: 1 }),
  json('/v1/consume', { tenant: 'in-flight', metric: 'api-calls', amount: 1, idempotencyKey: 'k' }),
  json('/v1/rate', { tenant: 'bad-input', name: 'requests' }),
  json('/v1/check', { tenant: 'boom', feature: 'sso' }, { 'x-request-id': 'the-bug' }),
  json('/v1/check', { tenant: 'acme', feature: 'sso' }, { 'x-request-id': 'bad id!' }),
  { ...json('/v1/check', { tenant: 'acme', feature: 'sso' }), chunked: true },
  json('/v1/check?explain=1', { tenant: 'acme', feature: 'sso' }),
  json('/v1/check/', { tenant: 'acme', feature: 'sso' }),
  json('/v1/tenants/acme/entitlements', {}),
  json('/admission/validate', podReview('uid-1', 'umb'), { authorization: '' }),
  json('/admission/validate', podReview('uid-2', 'free')),
  json('/admission/validate', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview' }),
  json('/admission/validate', review({ uid: '' })),
  { path: '/admission/validate', body: '<xml/>', headers: { 'content-type': 'text/xml' } },
];

/** A log line without its latency and a thrown error's stack (the frames differ: that is the point). */
const comparable = (line: string): unknown => {
  const parsed = JSON.parse(line) as { httpRequest?: { latency?: string }; requestId?: string; err?: { stack?: string }; stack_trace?: string };
  if (parsed.httpRequest) delete parsed.httpRequest.latency;
  if (parsed.err) delete parsed.err.stack;
  delete parsed.stack_trace;
  if (parsed.requestId && GENERATED_ID.test(parsed.requestId)) parsed.requestId = '(generated)';
  return parsed;
};

test('the lean routes answer the corpus byte for byte as the Hono app, with the same metrics, log lines and errors', async (t) => {
  const [app, lean] = [await side(t, false), await side(t, true)];
  for (const r of CORPUS) {
    const [want, got] = [await send(app, r), await send(lean, r)];
    t.deepEqual(got, want, `${r.path} ${r.body?.slice(0, 80)} ${JSON.stringify(r.headers ?? {})}`);
  }
  const counted = async (s: Side) => (await s.metrics.metricsText()).split('\n').filter((l) => /^tai_(http_requests_total|decisions_total|admission_reviews_total)\{/.test(l));
  t.deepEqual(await counted(lean), await counted(app));
  t.deepEqual(lean.lines.map(comparable), app.lines.map(comparable));
  t.deepEqual(lean.errors, app.errors);
  t.true(app.lines.length >= CORPUS.length, 'every request logged');
});

test('a server without bearerAuth but another auth middleware leaves every request to the app', (t) => {
  t.is(leanRoutes({ decisions: failing({} as DecisionService), tenant: () => undefined, readiness: () => ({}) as never, auth: async (_c, next) => next() }), undefined);
});
