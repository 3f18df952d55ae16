// The listener's limits on real sockets: a client that sends its body too slowly is answered 408 and cut off,
// connections past the limit are dropped, and a request line Node cannot parse is answered as a problem.
// Small injected timeouts; no assertion on how fast anything happens (only generous deadlines).
import test from 'ava';
import { connect, type Socket } from 'node:net';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makeTestCa } from '../test/support/certs.ts';
import { eventually } from '../test/support/served.ts';
import { appOver } from '../http/app.test-helper.ts';
import { listenOn, type HttpLimits, type Listener } from './http-listener.ts';
import { runTai } from '../test/support/log-fixture.ts';

const fetch = async (req: Request): Promise<Response> => new Response(`read ${(await req.text()).length} bytes`);
const io = { out: () => undefined, err: () => undefined };
const SMALL: HttpLimits = { requestTimeoutMs: 400, headersTimeoutMs: 300, keepAliveTimeoutMs: 200, maxConnections: 2, checkIntervalMs: 50 };
const DEADLINE_MS = 20_000;

/** Everything the server sent on `socket` until it closed it, or `undefined` if it kept it open past the deadline. */
function untilClosed(socket: Socket): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = '';
    const timer = setTimeout(() => (socket.destroy(), resolve(undefined)), DEADLINE_MS);
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => (clearTimeout(timer), resolve(got)));
  });
}

const portOf = (l: Listener): number => Number(new URL(l.url).port);
const open = (l: Listener): Promise<Socket> => new Promise((resolve, reject) => { const s = connect(portOf(l), '127.0.0.1', () => resolve(s)).once('error', reject); });
const SLOW_BODY = 'POST /v1/check HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"ten';

test('a client that sends a body slower than requestTimeout gets 408 problem+json and the connection closed', async (t) => {
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: SMALL });
  try {
    const s = await open(l);
    s.write(SLOW_BODY); // and never the rest
    const got = await untilClosed(s);
    t.not(got, undefined, 'the server closed the connection');
    t.regex(got!, /^HTTP\/1\.1 408 /);
    t.regex(got!, /content-type: application\/problem\+json/i);
    t.regex(got!, /"type":"https:\/\/tai\.dev\/problems\/request-timeout"/);
  } finally {
    await l.close();
  }
});

test('a client that never finishes its headers is cut off too', async (t) => {
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: SMALL });
  try {
    const s = await open(l);
    s.write('GET /healthz HTTP/1.1\r\nHost: t\r\n');
    t.not(await untilClosed(s), undefined);
  } finally {
    await l.close();
  }
});

test('connections past maxConnections are dropped; the ones held keep working', async (t) => {
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: { ...SMALL, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 } });
  try {
    const held = [await open(l), await open(l)];
    await new Promise((r) => setTimeout(r, 100)); // let the server accept both before the third arrives
    const third = await open(l);
    t.is(await untilClosed(third), '', 'dropped without an answer');
    const first = held[0]!;
    const answered = new Promise<string>((resolve) => first.once('data', (d: Buffer) => resolve(d.toString())));
    first.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}');
    t.regex(await answered, /^HTTP\/1\.1 200 [\s\S]*read 2 bytes/);
    held.forEach((s) => s.destroy());
  } finally {
    await l.close();
  }
});

test('a method Node cannot parse is 501 problem+json, not a bare 400', async (t) => {
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: SMALL });
  try {
    const s = await open(l);
    s.write('FROB /v1/check HTTP/1.1\r\nHost: t\r\n\r\n');
    const got = await untilClosed(s);
    t.regex(got ?? '', /^HTTP\/1\.1 501 /);
    t.regex(got ?? '', /"type":"https:\/\/tai\.dev\/problems\/method-not-implemented"/);
  } finally {
    await l.close();
  }
});

test('over TLS, a slow body is cut off the same way', async (t) => {
  const ca = makeTestCa('tai-listener-certs-');
  ca.issue('one', '1001');
  const tls = { certPath: join(ca.dir, 'one.crt'), keyPath: join(ca.dir, 'one.key') };
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls, io, limits: SMALL });
  try {
    const caPem = await readFile(join(ca.dir, 'ca.crt'));
    const s = await new Promise<Socket>((resolve) => { const c = tlsConnect({ port: portOf(l), host: '127.0.0.1', ca: caPem }, () => resolve(c)); });
    s.write(SLOW_BODY);
    const got = await untilClosed(s);
    t.regex(got ?? '(kept open)', /^HTTP\/1\.1 408 /);
  } finally {
    await l.close();
    await rm(ca.dir, { recursive: true, force: true });
  }
});

test('the app does not report a request cut off mid-body as an internal error', async (t) => {
  const { app, errors } = appOver([], { now: 0 });
  const answered: Promise<Response>[] = [];
  const track = (req: Request): Promise<Response> => {
    const answer = Promise.resolve(app.fetch(req));
    answered.push(answer);
    return answer;
  };
  const l = await listenOn(track, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: SMALL });
  try {
    const s = await open(l);
    s.write(SLOW_BODY);
    t.regex((await untilClosed(s)) ?? '(kept open)', /^HTTP\/1\.1 408 /);
    t.true(await eventually(() => answered.length === 1, DEADLINE_MS), 'the app saw the request');
    const response = await answered[0]!;
    t.deepEqual(errors, [], 'no internal error reported');
    t.not(response.status, 500);
  } finally {
    await l.close();
  }
});

test('close drains: stops accepting, answers the request in flight with Connection: close, then resolves', async (t) => {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const slow = async (req: Request): Promise<Response> => (await released, fetch(req));
  const l = await listenOn(slow, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: { ...SMALL, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 } });
  const s = await open(l);
  const answered = untilClosed(s);
  s.write('POST /admission/validate HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}');
  await new Promise((r) => setTimeout(r, 100)); // the request is read and waiting
  let closed = false;
  const closing = l.close().then(() => (closed = true));
  const refused = async (): Promise<boolean> => /ECONNREFUSED/.test(await open(l).then((c) => (c.destroy(), 'connected'), (e: Error) => e.message));
  t.true(await eventually(refused, DEADLINE_MS), 'no new connection');
  t.false(closed, 'waits for the request in flight');
  release();
  const got = await answered;
  t.regex(got ?? '(kept open)', /^HTTP\/1\.1 200 [\s\S]*connection: close[\s\S]*read 2 bytes$/i);
  await closing;
  t.true(closed);
});

test('close does not cut a kept-alive connection its client has just sent a request on: answered, Connection: close', async (t) => {
  const l = await listenOn(fetch, { at: { host: '127.0.0.1', port: 0 }, tls: undefined, io, limits: { ...SMALL, requestTimeoutMs: 60_000, headersTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000 } });
  const s = await open(l);
  const first = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
  s.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}');
  t.regex(await first, /^HTTP\/1\.1 200 [\s\S]*connection: keep-alive/i);
  const answered = untilClosed(s);
  const closing = l.close();
  s.write('POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n{ }'); // as the API server reuses it, this instant
  t.regex((await answered) ?? '(kept open)', /^HTTP\/1\.1 200 [\s\S]*connection: close[\s\S]*read 3 bytes$/i);
  await closing;
});

test('tai serve takes the limits as whole seconds and a count, and refuses headers given longer than the request', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--request-timeout', '5', '--headers-timeout', '10'], /--headers-timeout 10 is longer than --request-timeout 5/],
    [['--max-connections', '0'], /--max-connections: expected a whole number ≥ 1, got "0"/],
    [['--keep-alive-timeout', '1.5'], /--keep-alive-timeout: expected a whole number ≥ 1/],
  ];
  for (const [flags, message] of cases) {
    const r = await runTai(['serve', '--from', 'config/samples', '--listen', '127.0.0.1:0', ...flags]);
    t.is(r.code, 2, flags.join(' '));
    t.regex(r.err.join('\n'), message);
  }
  const help = await runTai(['serve', '--help']);
  for (const flag of ['--request-timeout', '--headers-timeout', '--keep-alive-timeout', '--max-connections']) t.true(help.out.join('\n').includes(flag), flag);
});
