// A real HAProxy (Debian's 2.6, installed by hack/redis.sh) in front of several `tai serve` replicas: in tcp mode
// it stands in for a Kubernetes Service (L4), in http mode for an L7 proxy with retries (a Gateway, Envoy). Round
// robin over the backends given, on a free loopback port, with its admin socket for tests that read which
// backends it holds up or take one out.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binary, freePort, spawnOwned, stopOwned, until, type Owned } from './local-process.ts';

export interface HaproxyOptions {
  /**
   * http (the default): each request goes to the next backend, keep-alive or not; http:// backends, or https://
   * ones with `tls`. The request is buffered whole and, when its backend refuses the connection, dies mid-request
   * (closed with no answer) or times out (`timeout server`), sent again to another backend (up to 3 tries).
   * tcp: each connection goes to the next backend and bytes pass through, so https:// backends keep their own TLS
   * end to end, as behind a Service (kube-proxy balances connections, not requests). Only a refused connection is
   * retried: bytes already passed on cannot be sent again.
   */
  mode?: 'http' | 'tcp';
  /**
   * http mode in front of https:// backends: HAProxy terminates TLS with this certificate (PEM files; clients
   * trust its CA) and opens TLS again to each backend, whose certificate must chain to `caPem` (verify required:
   * the proxy holds the requests' content, so it checks who it hands them to, as a Gateway's backend TLS policy).
   */
  tls?: { cert: string; key: string; caPem: string };
  /**
   * A path (say '/readyz'): HAProxy GETs it on every backend every 500 ms, takes one out of the rotation after two
   * answers that are not 200 (or none: connect and TLS handshake get 500 ms) and back in after one 200, as a
   * Service's endpoints follow readiness. Without it every backend stays in; a connection refused is still retried
   * on the next one (retries 3, redispatch).
   */
  healthCheck?: string;
}

export interface Haproxy {
  url: string;
  port: number;
  dir: string;
  config: string;
  pid: number;
  process: Owned;
  /** The backends in config order, named r0, r1, … in HAProxy's backend `replicas`. */
  backends: readonly string[];
}

/** Starts HAProxy balancing round robin over `backends` (base URLs) and resolves once it accepts connections. */
export async function startHaproxy(backends: readonly string[], o: HaproxyOptions = {}): Promise<Haproxy> {
  const mode = o.mode ?? 'http';
  const targets = backends.map((b) => new URL(b));
  if (targets.length === 0) throw new Error('startHaproxy: no backends');
  const expected = mode === 'http' && o.tls ? 'https:' : 'http:';
  if (mode === 'http' && targets.some((t) => t.protocol !== expected)) {
    throw new Error(`startHaproxy: mode 'http' ${o.tls ? 'with' : 'without'} tls takes ${expected}// backends only (got ${backends.join(', ')}); mode 'tcp' passes TLS through`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'tai-haproxy-'));
  const port = await freePort();
  const config = join(dir, 'haproxy.cfg');
  const tls = mode === 'http' && o.tls ? await tlsFiles(dir, o.tls) : undefined;
  await writeFile(config, haproxyConfig({ mode, port, dir, targets, healthCheck: o.healthCheck, tls }));
  const owned = spawnOwned(await binary('TAI_HAPROXY'), ['-db', '-f', config]);
  const scheme = tls || targets[0]!.protocol === 'https:' ? 'https' : 'http';
  const proxy: Haproxy = { url: `${scheme}://127.0.0.1:${port}`, port, dir, config, pid: owned.child.pid!, process: owned, backends };
  await until(owned.child, () => accepts(port), () => `haproxy on port ${port} (${config}):\n${owned.output()}`);
  return proxy;
}

/** The frontend's certificate and key in one PEM (as `bind … ssl crt` reads it) and the backends' CA, in `dir`. */
async function tlsFiles(dir: string, tls: NonNullable<HaproxyOptions['tls']>): Promise<TlsFiles> {
  const files = { crt: join(dir, 'frontend.pem'), caFile: join(dir, 'backends-ca.pem') };
  await writeFile(files.crt, `${await readFile(tls.cert, 'utf8')}\n${await readFile(tls.key, 'utf8')}`);
  await writeFile(files.caFile, tls.caPem);
  return files;
}

interface TlsFiles {
  crt: string;
  caFile: string;
}

function haproxyConfig(c: { mode: 'http' | 'tcp'; port: number; dir: string; targets: URL[]; healthCheck?: string; tls?: TlsFiles }): string {
  // The check's connect timeout (TLS handshake included) is its interval: 100 ms timed out under a loaded CI.
  const check = c.healthCheck === undefined ? '' : ' check inter 500ms fall 2 rise 1';
  const servers = c.targets.map((t, i) => {
    // tcp: TLS for the probe only (clients verify end to end); http with tls: every connection, the probe's too.
    const probeTls = c.healthCheck !== undefined && t.protocol === 'https:' ? ' check-ssl verify none' : '';
    const tls = c.tls ? ` ssl verify required ca-file ${c.tls.caFile}` : probeTls;
    return `  server r${i} ${t.hostname}:${t.port || (t.protocol === 'https:' ? 443 : 80)}${check}${tls}`;
  });
  // Buffered whole, a request can be sent again to another backend when the one it went to refuses the
  // connection, closes it without an answer (killed mid-request; a keep-alive race) or does not answer in time.
  const retry = c.mode === 'http' ? ['  option http-buffer-request', '  retry-on conn-failure empty-response response-timeout'] : [];
  return [
    'global',
    '  nbthread 1', // two shared cores: leave them to the replicas under test
    '  log stderr format short local0 notice', // backends going DOWN or UP, with the reason, in proxy.process.output()
    `  stats socket ${join(c.dir, 'admin.sock')} level admin`,
    'defaults',
    '  log global',
    `  mode ${c.mode}`,
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout check 2s',
    '  retries 3',
    '  option redispatch 1', // a refused connection is retried on the next backend, not the same one
    ...retry,
    'frontend tai',
    `  bind 127.0.0.1:${c.port}${c.tls ? ` ssl crt ${c.tls.crt}` : ''}`,
    '  default_backend replicas',
    'backend replicas',
    '  balance roundrobin',
    ...(c.healthCheck === undefined ? [] : [`  option httpchk GET ${c.healthCheck}`, '  http-check expect status 200']),
    ...servers,
    '',
  ].join('\n');
}

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/**
 * One command on HAProxy's admin socket, and its answer: 'show stat' (CSV; column `status` is UP, DOWN, MAINT),
 * 'disable server replicas/r1', 'enable server replicas/r1'.
 */
export function haproxyAdmin(proxy: Haproxy, command: string): Promise<string> {
  return new Promise((done, fail) => {
    const socket = connect(join(proxy.dir, 'admin.sock'), () => socket.end(`${command}\n`));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('utf8')));
    socket.once('error', fail);
    socket.once('close', () => done(answer));
  });
}

/** `show stat` as one record per row, keyed by column: pxname, svname (FRONTEND, BACKEND, r0, …), status, stot, wretr, wredis, … */
export async function haproxyStats(proxy: Haproxy): Promise<Record<string, string>[]> {
  const [header, ...rows] = (await haproxyAdmin(proxy, 'show stat')).trim().split('\n');
  const columns = header!.replace(/^# /, '').split(',');
  return rows.map((r) => Object.fromEntries(r.split(',').map((cell, i) => [columns[i], cell])));
}

/** Each backend's status as HAProxy sees it now (r0: 'UP', r1: 'DOWN', …; 'no check' without a health check). */
export async function haproxyBackends(proxy: Haproxy): Promise<Record<string, string>> {
  const rows = (await haproxyStats(proxy)).filter((r) => r.pxname === 'replicas' && /^r\d+$/.test(r.svname!));
  return Object.fromEntries(rows.map((r) => [r.svname!, r.status!]));
}

/** Stops HAProxy (SIGTERM, SIGKILL after 10 s) and deletes its folder. */
export async function stopHaproxy(proxy: Haproxy): Promise<void> {
  await stopOwned(proxy.process.child);
  await rm(proxy.dir, { recursive: true, force: true });
}
