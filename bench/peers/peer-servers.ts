/**
 * The peers of the peers bench as servers on this machine: OPA (`opa run --server`) and a single Gubernator
 * node, each pinned to the servers' CPU like `tai serve`, ready once their health endpoint answers, stopped
 * with SIGTERM. Binaries come from hack/peers.sh (built from the Go module proxy, cached per machine).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { pinnedCommand } from '../cpu-pin.ts';

const PEERS_SH = fileURLToPath(new URL('../../hack/peers.sh', import.meta.url));

export interface PeerServer {
  url: string;
  stop(): Promise<void>;
}

/** A peer's binary, or why there is none. */
export type PeerBinary = { path: string; version: string } | { error: string; version: string };

/** Builds (first run on a machine) or finds both peers with hack/peers.sh; a build failure is a reason, not a throw. */
export async function peerBinaries(log: (line: string) => void): Promise<{ opa: PeerBinary; gubernator: PeerBinary }> {
  let envPath: string;
  try {
    const { stdout, stderr } = await promisify(execFile)('bash', [PEERS_SH], { maxBuffer: 1 << 22 });
    for (const line of stderr.split('\n').filter((l) => l.startsWith('peers: '))) log(line);
    envPath = stdout.trim();
  } catch (e) {
    const error = `hack/peers.sh failed: ${(e as Error).message.split('\n').slice(0, 3).join(' ')}`;
    return { opa: { error, version: '?' }, gubernator: { error, version: '?' } };
  }
  const env = new Map(readFileSync(envPath, 'utf8').split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  const binary = (key: string): PeerBinary => {
    const version = env.get(`${key}_VERSION`) ?? '?';
    const path = env.get(key);
    return path ? { path, version } : { error: env.get(`${key}_ERROR`) || 'not built (no reason given)', version };
  };
  return { opa: binary('TAI_PEER_OPA'), gubernator: binary('TAI_PEER_GUBERNATOR') };
}

/** A TCP port free now on 127.0.0.1 (the peers take their listen address as a flag or variable). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * `opa run --server` on 127.0.0.1, telemetry (its version check) off, only errors logged, loading `files` (Rego and JSON data).
 * With `decisionLog`, every decision is logged to the console decision logger, which goes to `output` (its
 * stdout and stderr in any case).
 */
export async function startOpa(bin: string, o: { files: readonly string[]; output: string; decisionLog: boolean; core: number }): Promise<PeerServer> {
  const port = await freePort();
  const args = ['run', '--server', '--addr', `127.0.0.1:${port}`, '--skip-version-check', '--log-level', 'error', ...(o.decisionLog ? ['--set', 'decision_logs.console=true'] : []), ...o.files];
  const url = `http://127.0.0.1:${port}`;
  return startPeer({ bin, args, env: {}, output: o.output, core: o.core }, url, async () => (await fetch(`${url}/health`)).ok);
}

/**
 * One Gubernator node on 127.0.0.1: its HTTP gateway, gRPC and memberlist ports free ones, peer discovery by
 * memberlist knowing only itself (a cluster of one: it owns every key), only errors logged, no trace export.
 */
export async function startGubernator(bin: string, o: { output: string; core: number }): Promise<PeerServer> {
  const [http, grpc, gossip] = [await freePort(), await freePort(), await freePort()];
  const env = {
    GUBER_HTTP_ADDRESS: `127.0.0.1:${http}`,
    GUBER_GRPC_ADDRESS: `127.0.0.1:${grpc}`,
    GUBER_ADVERTISE_ADDRESS: `127.0.0.1:${grpc}`,
    GUBER_PEER_DISCOVERY_TYPE: 'member-list',
    GUBER_MEMBERLIST_ADDRESS: `127.0.0.1:${gossip}`,
    GUBER_MEMBERLIST_BIND_ADDRESS: `127.0.0.1:${gossip}`,
    GUBER_MEMBERLIST_KNOWN_NODES: `127.0.0.1:${gossip}`, // itself: memberlist needs a node to join
    GUBER_LOG_LEVEL: 'error',
    // Its default exports OpenTelemetry spans to a collector on localhost, which is not there: off, as for OPA.
    OTEL_TRACES_EXPORTER: 'none',
  };
  const url = `http://127.0.0.1:${http}`;
  return startPeer({ bin, args: [], env, output: o.output, core: o.core }, url, async () => {
    const health = (await (await fetch(`${url}/v1/HealthCheck`)).json()) as { status?: string; peer_count?: number };
    return health.status === 'healthy' && (health.peer_count ?? 0) >= 1;
  });
}

interface PeerCommand {
  bin: string;
  args: readonly string[];
  env: Record<string, string>;
  output: string;
  core: number;
}

/** Spawns the peer with its output to a file, and resolves once `ready` says so (within 30 s). */
async function startPeer(c: PeerCommand, url: string, ready: () => Promise<boolean>): Promise<PeerServer> {
  const fd = openSync(c.output, 'a');
  const [cmd, argv] = pinnedCommand(c.core, c.bin, c.args);
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], env: { ...process.env, ...c.env } });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const peer = { url, stop: () => stopChild(child, exited) };
  try {
    await waitReady(child, ready, c);
  } catch (e) {
    await peer.stop();
    throw e;
  }
  return peer;
}

async function waitReady(child: ChildProcess, ready: () => Promise<boolean>, c: PeerCommand): Promise<void> {
  const deadline = Date.now() + 30_000;
  const why = (): string => `${c.bin}: ${readFileSync(c.output, 'utf8').split('\n').slice(-5).join(' ')}`;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode} before answering: ${why()}`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not ready after 30 s: ${why()}`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
