// What test/support/redis-server.ts and test/support/haproxy.ts share: the binaries hack/redis.sh installs, free
// loopback ports, and server processes that never outlive the test that started them.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const SCRIPT = resolve(import.meta.dirname, '../../hack/redis.sh');

let installed: Promise<Record<string, string>> | undefined;

/** The path hack/redis.sh prints for `key` (TAI_REDIS_SERVER, TAI_HAPROXY); installs Debian's packages if missing. */
export async function binary(key: 'TAI_REDIS_SERVER' | 'TAI_HAPROXY'): Promise<string> {
  installed ??= promisify(execFile)('bash', [SCRIPT]).then(({ stdout }) =>
    Object.fromEntries(stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)])),
  );
  const path = (await installed)[key];
  if (!path) throw new Error(`bash hack/redis.sh printed no ${key}=PATH line`);
  return path;
}

const handedOut = new Set<number>();

/**
 * A port nothing listens on, below the kernel's ephemeral range (as hack/lib.sh's pick_port), so no outgoing
 * connection takes it between this pick and the server's bind, nor before a restart on the same port. Never the
 * same port twice in one process: a crashed server's port stays its own for the restart.
 */
export async function freePort(): Promise<number> {
  const [low = 32768] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
  const [from, span] = low > 12_000 ? [10_000, low - 10_000] : [low + 20_000, 5_000];
  for (let i = 0; i < 200; i++) {
    const port = from + Math.floor(Math.random() * span);
    if (handedOut.has(port) || !(await bindable(port))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no free TCP port found on 127.0.0.1');
}

function bindable(port: number): Promise<boolean> {
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => done(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => done(true)));
  });
}

const owned = new Set<ChildProcess>();
let hooked = false;

/** A server process this test started, and the tail of what it printed (stdout and stderr, 64 KiB at most). */
export interface Owned {
  child: ChildProcess;
  output(): string;
}

/**
 * Starts `bin args…` as a process that dies with this test: the kernel sends it SIGKILL when the thread that
 * started it ends (setpriv --pdeathsig: a crashed or killed test runner included), and this process's 'exit'
 * kills what is still running. setpriv execs `bin`, so the child's PID is the server's own.
 */
export function spawnOwned(bin: string, args: readonly string[]): Owned {
  const setpriv = '/usr/bin/setpriv'; // util-linux, Essential in Debian
  const [cmd, argv] = existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'KILL', bin, ...args]] : [bin, [...args]];
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-65_536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  owned.add(child);
  child.once('exit', () => owned.delete(child));
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of owned) c.kill('SIGKILL');
    });
  }
  return { child, output: () => output };
}

/** Resolves once `child` has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => child.once('exit', () => done()));
}

/** Sends `signal` (SIGTERM: a clean stop; SIGKILL: a crash), SIGKILL after 10 s, and waits until the process is gone. */
export async function stopOwned(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGCONT'); // a paused process would not act on SIGTERM
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited(child);
  clearTimeout(timer);
}

/** Polls `probe` until it holds; rejects when `child` exits first or after `deadlineMs`, with `why()` for context. */
export async function until(child: ChildProcess, probe: () => Promise<boolean>, why: () => string, deadlineMs = 15_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it answered\n${why()}`);
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no answer within ${deadlineMs} ms\n${why()}`);
}
