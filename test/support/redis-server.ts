// A real redis-server (Debian's, installed by hack/redis.sh) for the shared-counter tests: one per test, on a free
// loopback port, in its own temporary folder, with no persistence unless asked. Helpers to flush it, crash it,
// pause it and restart it (empty, as after a failover without persistence) on the same port.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { makeTestCa } from './certs.ts';
import { binary, freePort, spawnOwned, stopOwned, until, type Owned } from './local-process.ts';
import { encodeCommand, parseReply, RespError, type RespValue } from './resp.ts';

export interface RedisServerOptions {
  /** AUTH password (`requirepass`), also written to `passwordFile` for a client that reads it (Memorystore's AUTH string). */
  password?: string;
  /** Serve TLS only (`tls-port`, no plain port), with a certificate for 127.0.0.1 from a test CA; the URL is rediss://. */
  tls?: boolean;
  /** Append-only file fsynced on every write, so data survives a crash and a restart; off: a restart comes back empty. */
  persist?: boolean;
}

/** A running redis-server. `restartRedis` replaces `process` and `pid` in place; the rest stays. */
export interface RedisServer {
  url: string;
  host: string;
  port: number;
  dir: string;
  pid: number;
  process: Owned;
  config: string;
  password?: string;
  passwordFile?: string;
  /** With `tls`: the CA that signed the server's certificate (a client's `ca`), and its file. */
  caPem?: string;
  caFile?: string;
}

/** Starts a redis-server and resolves once it answers PING. Stop it with `stopRedis` (test.after.always). */
export async function startRedis(o: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-redis-'));
  const port = await freePort();
  const lines = [
    'bind 127.0.0.1',
    o.tls ? 'port 0' : `port ${port}`,
    `dir ${dir}`,
    'daemonize no',
    'logfile ""', // stdout, which the test keeps for its error messages
    'save ""',
    o.persist ? 'appendonly yes' : 'appendonly no',
    'appendfsync always',
    'enable-debug-command local', // DEBUG SLEEP: a stalled server, from loopback only
  ];
  const server: Omit<RedisServer, 'process' | 'pid'> = { url: `${o.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`, host: '127.0.0.1', port, dir, config: join(dir, 'redis.conf') };
  if (o.password !== undefined) {
    server.password = o.password;
    server.passwordFile = join(dir, 'password');
    await writeFile(server.passwordFile, o.password, { mode: 0o600 });
    lines.push(`requirepass "${o.password.replace(/["\\]/g, (c) => `\\${c}`)}"`);
  }
  if (o.tls) lines.push(...tlsLines(server));
  await writeFile(server.config, `${lines.join('\n')}\n`);
  const started = server as RedisServer;
  await launch(started);
  return started;
}

/** TLS like Memorystore's in-transit encryption: the server proves itself with a certificate; clients show none. */
function tlsLines(server: Omit<RedisServer, 'process' | 'pid'>): string[] {
  const ca = makeTestCa('tai-redis-ca-');
  const { cert, key } = ca.issue('redis', '01');
  server.caPem = ca.caPem;
  server.caFile = join(ca.dir, 'ca.crt');
  return [`tls-port ${server.port}`, `tls-cert-file ${cert}`, `tls-key-file ${key}`, `tls-ca-cert-file ${server.caFile}`, 'tls-auth-clients no'];
}

async function launch(server: RedisServer): Promise<void> {
  server.process = spawnOwned(await binary('TAI_REDIS_SERVER'), [server.config]);
  server.pid = server.process.child.pid!;
  const answers = async (): Promise<boolean> => (await redisCall(server, ['PING'], 1_000).catch(() => undefined)) === 'PONG';
  await until(server.process.child, answers, () => `redis-server on ${server.url} (${server.config}):\n${server.process.output()}`);
}

/**
 * Sends one command on a new connection (after AUTH when the server has a password) and resolves with the reply;
 * an error reply rejects with a RespError. Rejects when no reply comes within `timeoutMs` (a paused server).
 * @example await redisCall(redis, ['INCRBY', 'k', 5]) // 5
 */
export async function redisCall(server: RedisServer, command: readonly (string | number)[], timeoutMs = 5_000): Promise<RespValue> {
  const commands = server.password === undefined ? [command] : [['AUTH', server.password], command];
  const replies = await exchange(server, commands, timeoutMs);
  for (const reply of replies) if (reply instanceof RespError) throw reply;
  return replies.at(-1)!;
}

/** Writes `commands` on one new connection and collects as many replies, then closes it. */
function exchange(server: RedisServer, commands: readonly (readonly (string | number)[])[], timeoutMs: number): Promise<RespValue[]> {
  return new Promise((done, fail) => {
    const socket: Socket = server.caPem ? tlsConnect({ host: server.host, port: server.port, ca: server.caPem }) : netConnect({ host: server.host, port: server.port });
    const replies: RespValue[] = [];
    let buf = Buffer.alloc(0);
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no reply from ${server.url} within ${timeoutMs} ms`)));
    socket.once(server.caPem ? 'secureConnect' : 'connect', () => socket.write(Buffer.concat(commands.map(encodeCommand))));
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let reply = parseReply(buf); reply; reply = parseReply(buf)) {
        replies.push(reply.value);
        buf = buf.subarray(reply.next);
      }
      if (replies.length === commands.length) socket.end(() => done(replies));
    });
    socket.once('error', fail);
    socket.once('close', () => fail(new Error(`${server.url} closed the connection after ${replies.length} of ${commands.length} replies`)));
  });
}

/** FLUSHALL: every key gone at once, as Redis losing its data while it keeps running. */
export async function flushRedis(server: RedisServer): Promise<void> {
  await redisCall(server, ['FLUSHALL', 'SYNC']);
}

/** Crashes the server (SIGKILL: nothing saved) and waits until it is gone; restart it with `restartRedis`. */
export async function killRedis(server: RedisServer): Promise<void> {
  await stopOwned(server.process.child, 'SIGKILL');
}

/**
 * Starts the server again on the same port and folder, as the same endpoint after a failover: empty, unless it
 * was started with `persist`. Kills the running one first, if any.
 */
export async function restartRedis(server: RedisServer): Promise<void> {
  await stopOwned(server.process.child, 'SIGKILL');
  await launch(server);
}

/** SIGSTOP / SIGCONT: the server keeps its connections but answers nothing, as one stalled or cut off. */
export function pauseRedis(server: RedisServer): void {
  server.process.child.kill('SIGSTOP');
}

export function resumeRedis(server: RedisServer): void {
  server.process.child.kill('SIGCONT');
}

/** Stops the server (SIGTERM, SIGKILL after 10 s) and deletes its folder and certificates. */
export async function stopRedis(server: RedisServer): Promise<void> {
  await stopOwned(server.process.child);
  await rm(server.dir, { recursive: true, force: true });
  if (server.caFile) await rm(join(server.caFile, '..'), { recursive: true, force: true });
}
