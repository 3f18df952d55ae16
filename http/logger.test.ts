import test from 'ava';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { LevelWithSilent } from 'pino';
import { createLogger, ioLogger, requestLog, type RequestLogOptions } from './logger.ts';
import { problem } from './problem.ts';

const TIME = '2026-11-28T12:00:00.000Z';

/** A logger writing into an array of parsed JSON lines, at a fixed time. */
function memoryLogger(level: LevelWithSilent = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ level, base: { serviceContext: { service: 'tai' } }, now: () => Date.parse(TIME), destination: { write: (s) => lines.push(JSON.parse(s) as Record<string, unknown>) } });
  return { logger, lines };
}

/** A small app logged by requestLog; its clock moves 1.5 ms each read, so every request takes exactly 1.5 ms. */
function loggedApp(level: LevelWithSilent, opts: Omit<RequestLogOptions, 'now'> = {}) {
  const { logger, lines } = memoryLogger(level);
  let t = 0;
  const app = new Hono();
  app.use(requestId());
  app.use(requestLog(logger, { ...opts, now: () => (t += 1.5) }));
  app.get('/v1/tenants/:name/entitlements', (c) => c.json({ tenant: c.req.param('name') }));
  app.get('/v1/bad', (c) => problem(c, 'invalid-request', 'tenant: required'));
  app.get('/v1/boom', () => {
    throw new TypeError('kaboom');
  });
  app.onError((_e, c) => problem(c, 'internal', 'unexpected error'));
  return { app, lines };
}

test('pino levels map to Cloud Logging severities; message and RFC 3339 time keys; no level number', (t) => {
  const { logger, lines } = memoryLogger();
  logger.trace('t');
  logger.debug('d');
  logger.info({ tenant: 'acme' }, 'i');
  logger.warn('w');
  logger.error('e');
  logger.fatal('f');
  t.deepEqual(
    lines.map((l) => [l.severity, l.message]),
    [
      ['DEBUG', 't'],
      ['DEBUG', 'd'],
      ['INFO', 'i'],
      ['WARNING', 'w'],
      ['ERROR', 'e'],
      ['CRITICAL', 'f'],
    ],
  );
  t.deepEqual(lines[2], { severity: 'INFO', time: TIME, serviceContext: { service: 'tai' }, tenant: 'acme', message: 'i' });
  t.false(lines.some((l) => 'level' in l || 'msg' in l));
});

test('a logged error carries its stack as stack_trace, for Error Reporting', (t) => {
  const { logger, lines } = memoryLogger();
  const err = new RangeError('out of range');
  logger.error({ err }, 'failed');
  t.is(lines[0]?.stack_trace, err.stack);
  t.like(lines[0], { severity: 'ERROR', message: 'failed', err: { type: 'RangeError', message: 'out of range' } });
});

test('the level option filters lines', (t) => {
  const { logger, lines } = memoryLogger('warn');
  logger.info('hidden');
  logger.warn('shown');
  t.deepEqual(
    lines.map((l) => l.message),
    ['shown'],
  );
});

test('a successful request is one debug line with httpRequest, the route pattern and the request id', async (t) => {
  const { app, lines } = loggedApp('debug');
  const res = await app.request('/v1/tenants/acme/entitlements?explain=1', { headers: { 'user-agent': 'ava-test' } });
  t.is(res.status, 200);
  t.is(lines.length, 1);
  t.deepEqual(lines[0], {
    severity: 'DEBUG',
    time: TIME,
    serviceContext: { service: 'tai' },
    httpRequest: { requestMethod: 'GET', requestUrl: 'http://localhost/v1/tenants/acme/entitlements?explain=1', status: 200, latency: '0.0015s', userAgent: 'ava-test' },
    route: '/v1/tenants/:name/entitlements',
    requestId: res.headers.get('x-request-id'),
    message: 'GET /v1/tenants/:name/entitlements 200',
  });
  t.regex(String(lines[0]?.requestId), /^[\da-f-]{36}$/);
});

test("the caller's X-Request-Id is the logged requestId", async (t) => {
  const { app, lines } = loggedApp('debug');
  await app.request('/v1/tenants/acme/entitlements', { headers: { 'x-request-id': 'req-7f3a' } });
  t.is(lines[0]?.requestId, 'req-7f3a');
});

test('a 4xx is logged at warn with the problem detail, even when debug is off', async (t) => {
  const { app, lines } = loggedApp('info');
  await app.request('/v1/tenants/acme/entitlements');
  t.is((await app.request('/v1/bad')).status, 400);
  t.is((await app.request('/nowhere')).status, 404);
  t.is(lines.length, 2, 'the 200 is below the level');
  t.like(lines[0], { severity: 'WARNING', message: 'GET /v1/bad 400', route: '/v1/bad', httpRequest: { status: 400 }, problem: { type: 'https://tai.dev/problems/invalid-request', detail: 'tenant: required' } });
  t.like(lines[1], { severity: 'WARNING', route: 'unmatched', httpRequest: { status: 404, requestUrl: 'http://localhost/nowhere' } });
});

test('a handler that throws is logged at error with the error, its stack and the 500 problem', async (t) => {
  const { app, lines } = loggedApp('info');
  const res = await app.request('/v1/boom');
  t.is(res.status, 500);
  t.is(lines.length, 1);
  t.like(lines[0], {
    severity: 'ERROR',
    message: 'GET /v1/boom 500',
    requestId: res.headers.get('x-request-id'),
    problem: { type: 'https://tai.dev/problems/internal' },
    err: { type: 'TypeError', message: 'kaboom' },
  });
  t.regex(String(lines[0]?.stack_trace), /^TypeError: kaboom\n\s+at /);
  t.is((await res.json() as { detail: string }).detail, 'unexpected error', 'the client still gets the body the log read');
});

test('sampling drops only successful lines', async (t) => {
  const { app, lines } = loggedApp('debug', { sample: (c) => c.req.param('name') === 'acme' });
  await app.request('/v1/tenants/acme/entitlements');
  await app.request('/v1/tenants/initech/entitlements');
  await app.request('/v1/boom');
  t.deepEqual(
    lines.map((l) => [l.severity, (l.httpRequest as { requestUrl: string }).requestUrl]),
    [
      ['DEBUG', 'http://localhost/v1/tenants/acme/entitlements'],
      ['ERROR', 'http://localhost/v1/boom'],
    ],
  );
  const none = loggedApp('debug', { sample: 0 });
  await none.app.request('/v1/tenants/acme/entitlements');
  await none.app.request('/v1/bad');
  t.deepEqual(
    none.lines.map((l) => l.severity),
    ['WARNING'],
  );
});

test('with a trace project, the W3C traceparent or X-Cloud-Trace-Context becomes the Cloud Logging trace fields', async (t) => {
  const { app, lines } = loggedApp('debug', { traceProject: 'my-proj' });
  const trace = '4bf92f3577b34da6a3ce929d0e0e4736';
  await app.request('/v1/tenants/acme/entitlements', { headers: { traceparent: `00-${trace}-00f067aa0ba902b7-01` } });
  await app.request('/v1/tenants/acme/entitlements', { headers: { 'x-cloud-trace-context': `${trace.toUpperCase()}/255;o=0` } });
  await app.request('/v1/tenants/acme/entitlements', { headers: { traceparent: 'garbage' } });
  t.like(lines[0], { 'logging.googleapis.com/trace': `projects/my-proj/traces/${trace}`, 'logging.googleapis.com/spanId': '00f067aa0ba902b7', 'logging.googleapis.com/trace_sampled': true });
  t.like(lines[1], { 'logging.googleapis.com/trace': `projects/my-proj/traces/${trace}`, 'logging.googleapis.com/spanId': '00000000000000ff', 'logging.googleapis.com/trace_sampled': false });
  t.false('logging.googleapis.com/trace' in (lines[2] ?? {}));
});

test('ioLogger turns the CLI lines into info and error JSON lines', (t) => {
  const { logger, lines } = memoryLogger('info');
  const io = ioLogger(logger);
  io.out('tai: serving decisions on http://127.0.0.1:8080');
  io.err('tai: publishing the log failed: EIO');
  io.out('a line without the prefix');
  t.deepEqual(
    lines.map((l) => [l.severity, l.message]),
    [
      ['INFO', 'serving decisions on http://127.0.0.1:8080'],
      ['ERROR', 'publishing the log failed: EIO'],
      ['INFO', 'a line without the prefix'],
    ],
  );
});
