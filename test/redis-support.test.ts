// The real parts the scale-out tests stand on (issue 17): Debian's redis-server and HAProxy as
// test/support/redis-server.ts and test/support/haproxy.ts start them. Redis is spoken to in RESP over a raw
// socket (no client library: the product picks its own), crashed, restarted empty, paused, flushed, with AUTH and
// with TLS; HAProxy balances round robin over node:http servers, retries a refused one elsewhere, drops one whose
// health check fails, passes TLS through in tcp mode, and in http mode terminates TLS, re-encrypts to backends it
// verifies, and sends a request whose backend died mid-way to another. Neither outlives the process that started it.
import test from 'ava';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { makeTestCa } from './support/certs.ts';
import { haproxyAdmin, haproxyBackends, startHaproxy, stopHaproxy } from './support/haproxy.ts';
import { flushRedis, killRedis, pauseRedis, redisCall, restartRedis, resumeRedis, startRedis, stopRedis, type RedisServer } from './support/redis-server.ts';
import { RespError } from './support/resp.ts';
import { eventually } from './support/served.ts';

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`) && !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
const failure = async (p: Promise<unknown>): Promise<string> => p.then(() => 'no error', (e: Error) => `${e.constructor.name}: ${e.message}`);

test('redis-server: answers PING, counts, is flushed, crashes, and restarts empty on the same port', async (t) => {
  const redis = await startRedis();
  t.teardown(() => stopRedis(redis));
  t.regex(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
  t.is(await redisCall(redis, ['PING']), 'PONG');
  t.deepEqual(await redisCall(redis, ['CONFIG', 'GET', 'save']), ['save', '']);
  t.deepEqual(await redisCall(redis, ['CONFIG', 'GET', 'appendonly']), ['appendonly', 'no']);
  t.is(await redisCall(redis, ['INCRBY', 'usage', 5]), 5);
  t.is(await redisCall(redis, ['INCRBY', 'usage', 2]), 7);
  t.is(await redisCall(redis, ['GET', 'usage']), '7');
  t.deepEqual(await redisCall(redis, ['EVAL', "return {redis.call('INCR', KEYS[1]), ARGV[1]}", 1, 'usage', 'lua']), [8, 'lua']);
  t.regex(await failure(redisCall(redis, ['INCR', 'no', 'such', 'arity'])), /^RespError: ERR wrong number of arguments/);

  await flushRedis(redis);
  t.is(await redisCall(redis, ['DBSIZE']), 0);

  await redisCall(redis, ['SET', 'usage', 9]);
  const before = redis.pid;
  await killRedis(redis);
  t.false(alive(before));
  t.regex(await failure(redisCall(redis, ['PING'])), /ECONNREFUSED/);
  await restartRedis(redis);
  t.not(redis.pid, before);
  t.is(await redisCall(redis, ['GET', 'usage']), null, 'no persistence: a restart comes back empty');

  await stopRedis(redis);
  t.false(alive(redis.pid));
  t.false(existsSync(redis.dir));
});

test('redis-server with persist: what was written survives a crash and a restart', async (t) => {
  const redis = await startRedis({ persist: true });
  t.teardown(() => stopRedis(redis));
  await redisCall(redis, ['SET', 'usage', 27]);
  await killRedis(redis);
  await restartRedis(redis);
  t.is(await redisCall(redis, ['GET', 'usage']), '27');
});

test('redis-server with a password: NOAUTH without it; the password file holds it', async (t) => {
  const redis = await startRedis({ password: 'memorystore "auth" string' });
  t.teardown(() => stopRedis(redis));
  t.is(readFileSync(redis.passwordFile!, 'utf8'), 'memorystore "auth" string');
  t.is(await redisCall(redis, ['PING']), 'PONG');
  const anonymous: RedisServer = { ...redis, password: undefined };
  const denied = await redisCall(anonymous, ['PING']).catch((e: unknown) => e);
  t.true(denied instanceof RespError);
  t.regex((denied as RespError).message, /^NOAUTH/);
  t.regex(await failure(redisCall({ ...redis, password: 'wrong' }, ['PING'])), /^RespError: WRONGPASS/);
});

test('redis-server with TLS: rediss:// answers through the test CA; plain text gets nothing', async (t) => {
  const redis = await startRedis({ tls: true, password: 'pw' });
  t.teardown(() => stopRedis(redis));
  t.regex(redis.url, /^rediss:\/\/127\.0\.0\.1:\d+$/);
  t.is(await redisCall(redis, ['PING']), 'PONG');
  t.regex(await failure(redisCall({ ...redis, caPem: undefined }, ['PING'], 2_000)), /closed the connection|ECONNRESET|no reply/);
  t.regex(await failure(redisCall({ ...redis, caPem: makeTestCa('tai-other-ca-').caPem }, ['PING'])), /certificate/);
});

test('redis-server paused: no reply until it is resumed; the connection is kept', async (t) => {
  const redis = await startRedis();
  t.teardown(() => stopRedis(redis));
  pauseRedis(redis);
  t.regex(await failure(redisCall(redis, ['PING'], 300)), /no reply from .* within 300 ms/);
  const pending = redisCall(redis, ['INCR', 'k']);
  resumeRedis(redis);
  t.is(await pending, 1);
});

test('a redis-server dies with the process that started it, by exit or by SIGKILL', async (t) => {
  for (const how of ['exit', 'SIGKILL'] as const) {
    const script = `import(${JSON.stringify(resolve(import.meta.dirname, 'support/redis-server.ts'))}).then(async (m) => {
      const r = await m.startRedis(); console.log(r.pid); ${how === 'exit' ? 'process.exit(0);' : ''} })`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = Number(await new Promise<string>((done) => createInterface({ input: child.stdout }).once('line', done)));
    t.true(pid > 0, how);
    if (how === 'SIGKILL') child.kill('SIGKILL');
    t.true(await eventually(() => !alive(pid), 10_000), `redis-server ${pid} still running after its parent's ${how}`);
  }
});

/** A node:http server answering every request with `name`, and /readyz with `ready.status`; closed at teardown. */
async function named(t: { teardown(fn: () => unknown): void }, name: string, ready = { status: 200 }): Promise<{ url: string; server: Server }> {
  const server = createHttp((req, res) => {
    res.statusCode = req.url === '/readyz' ? ready.status : 200;
    res.end(name);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => new Promise((done) => server.close(done)).then(() => server.closeAllConnections()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

const answers = async (url: string, n: number): Promise<string[]> => {
  const got: string[] = [];
  for (let i = 0; i < n; i++) got.push(await (await fetch(url)).text());
  return got;
};

test('haproxy: round robin over two node:http servers; a refused one is retried on the other', async (t) => {
  const a = await named(t, 'a');
  const b = await named(t, 'b');
  const proxy = await startHaproxy([a.url, b.url]);
  t.teardown(() => stopHaproxy(proxy));
  t.regex(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const got = await answers(proxy.url, 6);
  t.true(got.join('') === 'ababab' || got.join('') === 'bababa', got.join(''));

  b.server.closeAllConnections();
  await new Promise((done) => b.server.close(done));
  t.deepEqual(await answers(proxy.url, 4), ['a', 'a', 'a', 'a'], 'retries 3 with redispatch: no request fails');

  const pid = proxy.pid;
  await stopHaproxy(proxy);
  t.false(alive(pid));
  t.regex(await failure(fetch(proxy.url)), /fetch failed/);
});

test('haproxy with a health check: a backend whose /readyz fails leaves the rotation, and comes back', async (t) => {
  const bReady = { status: 503 };
  const a = await named(t, 'a');
  const b = await named(t, 'b', bReady);
  const proxy = await startHaproxy([a.url, b.url], { healthCheck: '/readyz' });
  t.teardown(() => stopHaproxy(proxy));
  const status = async (): Promise<Record<string, string>> => haproxyBackends(proxy);
  t.true(await eventually(async () => (await status()).r1 === 'DOWN'), JSON.stringify(await status()));
  t.is((await status()).r0, 'UP');
  t.deepEqual(await answers(proxy.url, 4), ['a', 'a', 'a', 'a']);

  bReady.status = 200;
  t.true(await eventually(async () => (await status()).r1 === 'UP'), JSON.stringify(await status()));
  t.deepEqual([...(await answers(proxy.url, 4))].sort(), ['a', 'a', 'b', 'b']);

  await haproxyAdmin(proxy, 'disable server replicas/r0');
  await haproxyAdmin(proxy, 'disable server replicas/r1');
  t.deepEqual(await status(), { r0: 'MAINT', r1: 'MAINT' });
  t.is((await fetch(proxy.url)).status, 503, 'no backend left: HAProxy answers 503 itself');
  await haproxyAdmin(proxy, 'enable server replicas/r0');
  t.true(await eventually(async () => (await status()).r0 === 'UP'), JSON.stringify(await status()));
  t.deepEqual(await answers(proxy.url, 2), ['a', 'a']);
});

test('haproxy in tcp mode: TLS passes through to https backends, one connection to each in turn', async (t) => {
  const ca = makeTestCa('tai-haproxy-ca-');
  const { cert, key } = ca.issue('replica', '02');
  const urls: string[] = [];
  for (const name of ['a', 'b']) {
    const server = createHttps({ cert: readFileSync(cert), key: readFileSync(key) }, (_req, res) => res.end(name));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    t.teardown(() => new Promise((done) => server.close(() => done(undefined))));
    urls.push(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }
  const proxy = await startHaproxy(urls, { mode: 'tcp', healthCheck: '/' });
  t.teardown(() => stopHaproxy(proxy));
  t.regex(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const get = (): Promise<string> =>
    new Promise((done, fail) => {
      httpsRequest(proxy.url, { ca: ca.caPem, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => done(body));
      }).once('error', fail).end();
    });
  const up = async (): Promise<boolean> => Object.values(await haproxyBackends(proxy)).join() === 'UP,UP';
  t.true(await eventually(up), proxy.process.output());
  const got = await Promise.resolve().then(async () => [await get(), await get(), await get(), await get()].join('')).catch((e: Error) => `${e.message}\n${proxy.process.output()}`);
  t.true(got === 'abab' || got === 'baba', got);
  t.regex(await failure(startHaproxy(urls)), /mode 'http' without tls takes http:\/\/ backends only/);
});

/** An https server on the test CA's certificate answering `name: BODY`, or cutting the connection unanswered while `cut()`. */
async function httpsNamed(t: { teardown(fn: () => unknown): void }, name: string, pair: { cert: string; key: string }, cut = (): boolean => false): Promise<string> {
  const server = createHttps({ cert: readFileSync(pair.cert), key: readFileSync(pair.key) }, (req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => (req.method === 'POST' && cut() ? req.socket.destroy() : res.end(`${name}: ${body}`)));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  t.teardown(() => new Promise((done) => server.close(() => done(undefined))).then(() => server.closeAllConnections()));
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('haproxy in http mode with tls: terminates TLS, verifies its backends, and sends a request cut mid-way to another', async (t) => {
  const ca = makeTestCa('tai-haproxy-l7-ca-');
  const replica = ca.issue('replica', '03');
  let cuts = 0;
  const a = await httpsNamed(t, 'a', replica);
  const b = await httpsNamed(t, 'b', replica, () => (cuts++, true)); // dies on every POST, after reading it whole
  const proxy = await startHaproxy([a, b], { tls: { ...ca.issue('proxy', '04'), caPem: ca.caPem } });
  t.teardown(() => stopHaproxy(proxy));
  t.regex(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const post = (url: string, body: string): Promise<string> =>
    new Promise((done, fail) => {
      httpsRequest(url, { method: 'POST', ca: ca.caPem }, (res) => {
        let got = `${res.statusCode} `;
        res.on('data', (c: Buffer) => (got += c.toString()));
        res.on('end', () => done(got));
      }).once('error', fail).end(body);
    });
  const got = await Promise.all(['1', '2', '3', '4'].map((n) => post(proxy.url, n)));
  t.deepEqual(got, ['200 a: 1', '200 a: 2', '200 a: 3', '200 a: 4'], proxy.process.output());
  t.true(cuts >= 1, 'b was sent some and cut them');

  const stranger = await httpsNamed(t, 'stranger', makeTestCa('tai-haproxy-other-ca-').issue('stranger', '05'));
  const unverified = await startHaproxy([stranger], { tls: { ...ca.issue('proxy2', '06'), caPem: ca.caPem } });
  t.teardown(() => stopHaproxy(unverified));
  t.regex(await post(unverified.url, 'x'), /^503 /, 'a backend whose certificate is not from the CA is never sent the request');
  t.regex(await failure(startHaproxy([a], { mode: 'http' })), /mode 'http' without tls takes http:\/\/ backends only/);
  t.regex(await failure(startHaproxy(['http://127.0.0.1:1'], { tls: { ...replica, caPem: ca.caPem } })), /mode 'http' with tls takes https:\/\/ backends only/);
});

test('hack/redis.sh prints the paths of both, installed', async (t) => {
  const { stdout } = await promisify(execFile)('bash', [join(import.meta.dirname, '../hack/redis.sh')]);
  t.deepEqual(stdout.trim().split('\n'), ['TAI_REDIS_SERVER=/usr/bin/redis-server', 'TAI_HAPROXY=/usr/sbin/haproxy']);
});
