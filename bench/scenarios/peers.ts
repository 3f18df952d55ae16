/**
 * Peers, side by side (issue 19, point 5): TAI against what a platform team would run instead, asked the same
 * questions over the same tenants (config/samples and decision-http's bench tenant, plus one with a rate the
 * load never exhausts):
 * - the feature check (POST /v1/check) against OPA as a server (`opa run --server`, its version check off) answering it
 *   in Rego (bench/peers/check.rego) over a data document generated from the policy TAI compiles, without and
 *   with its decision log (the console decision logger, to a file: the nearest thing it has to receipts);
 * - the token-bucket rate decision (POST /v1/rate) against one Gubernator node (HTTP gateway, POST
 *   /v1/GetRateLimits) sent the tenant's compiled rate.
 * TAI is `tai serve` with receipts, durability async and sync. The peers are built by hack/peers.sh from the Go
 * module proxy (once per machine); a peer that cannot be built, started or made to agree is skipped, loudly.
 * Each server sits on CPU 1, the load on CPU 0; targets alternate within every round. Figures: throughput at
 * saturation (autocannon, 50 connections), p50/p99/p99.9 at 2 000 requests/s paced evenly (open loop), TAI's
 * event-loop delay per phase, and the disk's fdatasync p99 (a sync answer's floor).
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChildServer, type ChildServer } from '../child-server.ts';
import { pinning } from '../cpu-pin.ts';
import type { CannonResult } from '../load/cannon.ts';
import { recordLoopDelay, type Delays } from '../loop-delay.ts';
import { LOAD_CORE, runCannon, runPaced, SERVER_CORE } from '../load/run-cannon.ts';
import { checkAgreement, rateAgreement } from '../peers/agreement.ts';
import { compilePolicyFolder, gubernatorRequest, opaData } from '../peers/from-policy.ts';
import { loopDelayFigures, pairingFigures, type Pairing, type PeerRuns, type Samples } from '../peers/peer-figures.ts';
import { peerBinaries, startGubernator, startOpa, type PeerServer } from '../peers/peer-servers.ts';
import type { LoopDelay } from '../load/loop-delay-probe.ts';
import type { Preset } from '../presets.ts';
import type { Figure } from '../types.ts';
import { BENCH_TENANT, fsyncFloor } from './decision-http.ts';

const RATE = 2000;
const CONNECTIONS = 50;
const CHECK = { tenant: 'bench-co', feature: 'max-projects' };
const RATE_TAKE = { tenant: 'bench-peers', name: 'requests' };
/** The rate decisions' tenant: a bucket no run drains (~30 000 takes/s at most here), so every answer is allowed. */
const PEERS_TENANT = `apiVersion: tai.dev/v1alpha1
kind: Tenant
metadata:
  name: bench-peers
spec:
  sku: enterprise
  overrides:
    rates: { requests: { perSecond: 1000000, burst: 1000000 } }
`;
const REGO = fileURLToPath(new URL('../peers/check.rego', import.meta.url));
const OPA = 'OPA';
const OPA_LOGGED = 'OPA + decision log';
const GUBERNATOR = 'Gubernator';
const PAIRINGS: readonly Pairing[] = [
  ...(['async', 'sync'] as const).flatMap((d) => [OPA, OPA_LOGGED].map((peer) => ({ tai: `check (${d})`, peer, sync: d === 'sync' }))),
  ...(['async', 'sync'] as const).map((d) => ({ tai: `rate (${d})`, peer: GUBERNATOR, sync: d === 'sync' })),
];

interface LoadTarget {
  name: string;
  url: string;
  body: string;
  /** TAI's servers: their event-loop delay is recorded. */
  server?: ChildServer;
}

/** What the run started: targets to load, servers to stop, and the peers it could not run and why. */
interface Setup {
  dir: string;
  targets: LoadTarget[];
  stops: (() => Promise<void>)[];
  skipped: string[];
  tenants: number;
}

export async function peersScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const plan = preset.name === 'full' ? { runs: 5, seconds: 5, pacedSeconds: 5 } : { runs: 3, seconds: 2, pacedSeconds: 2.5 };
  const setup: Setup = { dir: await mkdtemp(join(tmpdir(), 'tai-bench-peers-')), targets: [], stops: [], skipped: [], tenants: 0 };
  try {
    await startTargets(setup, log);
    const note = [`${plan.runs} runs of ${plan.seconds} s (saturation) and ${plan.pacedSeconds} s (paced); servers ${pinning(SERVER_CORE)}, load ${pinning(LOAD_CORE)}`, ...setup.skipped.map((s) => `SKIPPED ${s}`)].join('; ');
    log(`peers: ${setup.targets.length} targets (${setup.targets.map((t) => t.name).join(', ')}), ${plan.runs} rounds; ${note}`);
    const loadBefore = loadavg()[0]!.toFixed(1);
    const runs = await measure(setup, plan, log);
    const floor = fsyncFloor(join(setup.dir, 'fsync-probe'));
    // Other work on a 2-core machine moves every figure here: say how busy it was.
    const busy = `load average (1 min) ${loadBefore} before the rounds, ${loadavg()[0]!.toFixed(1)} after`;
    log(`peers: fdatasync of a 3 KB append here: p50 ${floor.p50} ms, p99 ${floor.p99} ms; ${busy}`);
    const all: PeerRuns = { ...runs, floor, connections: CONNECTIONS, rate: RATE, tenants: setup.tenants, note: `${note}; ${busy}` };
    return [...pairingFigures(PAIRINGS, all), ...loopDelayFigures(all)];
  } finally {
    for (const stop of setup.stops) await stop();
    await rm(setup.dir, { recursive: true, force: true });
  }
}

/** Writes the policy, starts TAI (sync and async) and each peer that can run, and lists what to load. */
async function startTargets(setup: Setup, log: (line: string) => void): Promise<void> {
  const binaries = await peerBinaries(log); // first, so a first build (minutes) does not keep servers waiting
  const policy = join(setup.dir, 'policy');
  await cp('config/samples', policy, { recursive: true });
  await writeFile(join(policy, 'bench-tenant.yaml'), BENCH_TENANT);
  await writeFile(join(policy, 'peers-tenant.yaml'), PEERS_TENANT);
  const tenants = await compilePolicyFolder(policy, Date.now());
  setup.tenants = tenants.size;
  const tai: Record<string, ChildServer> = {};
  for (const durability of ['async', 'sync'] as const) {
    const server = await startChildServer(['cli/tai.ts', 'serve', '--from', policy, '--listen', '127.0.0.1:0', '--log', join(setup.dir, `log-${durability}`), '--key', join(setup.dir, 'key'), '--durability', durability], SERVER_CORE, { loopDelay: true });
    setup.stops.push(() => server.stop());
    tai[durability] = server;
  }
  const add = (name: string, url: string, body: unknown, server?: ChildServer): void => void setup.targets.push({ name, url, body: JSON.stringify(body), server });
  const skip = (peer: string, why: string): void => {
    setup.skipped.push(`${peer}: ${why}`);
    log(`!!!!!!!! peers: ${peer} SKIPPED: ${why}`);
  };
  // OPA first, then TAI's checks; Gubernator, then TAI's rate decisions: each peer beside what it is compared with.
  if ('error' in binaries.opa) skip(`OPA ${binaries.opa.version}`, binaries.opa.error);
  else {
    const opa = await startOpas(binaries.opa.path, setup, tenants, tai.async!.url).catch((e: Error) => skip(`OPA ${binaries.opa.version}`, e.message));
    if (opa) add(OPA, `${opa.plain}/v1/data/tai/check`, { input: CHECK });
    if (opa) add(OPA_LOGGED, `${opa.logged}/v1/data/tai/check`, { input: CHECK });
  }
  for (const d of ['async', 'sync']) add(`check (${d})`, `${tai[d]!.url}/v1/check`, CHECK, tai[d]);
  if ('error' in binaries.gubernator) skip(`Gubernator ${binaries.gubernator.version}`, binaries.gubernator.error);
  else {
    const url = await startGubernatorChecked(binaries.gubernator.path, setup, tenants, tai.async!.url).catch((e: Error) => skip(`Gubernator ${binaries.gubernator.version}`, e.message));
    if (url) add(GUBERNATOR, `${url}/v1/GetRateLimits`, gubernatorRequest(tenants, RATE_TAKE));
  }
  for (const d of ['async', 'sync']) add(`rate (${d})`, `${tai[d]!.url}/v1/rate`, RATE_TAKE, tai[d]);
}

type Tenants = Awaited<ReturnType<typeof compilePolicyFolder>>;

/** OPA twice (without and with its decision log) on the data generated from `tenants`, each agreeing with TAI. */
async function startOpas(bin: string, setup: Setup, tenants: Tenants, taiUrl: string): Promise<{ plain: string; logged: string }> {
  const data = join(setup.dir, 'opa-data.json');
  await writeFile(data, JSON.stringify(opaData(tenants)));
  const urls: string[] = [];
  for (const decisionLog of [false, true]) {
    const opa: PeerServer = await startOpa(bin, { files: [REGO, data], output: join(setup.dir, `opa${decisionLog ? '-decisions' : ''}.log`), decisionLog, core: SERVER_CORE });
    setup.stops.push(() => opa.stop());
    await checkAgreement(`${taiUrl}/v1/check`, `${opa.url}/v1/data/tai/check`, tenants);
    urls.push(opa.url);
  }
  return { plain: urls[0]!, logged: urls[1]! };
}

/** One Gubernator node, agreeing with TAI on a bucket the load does not use (globex's, starter: 100/s, burst 200). */
async function startGubernatorChecked(bin: string, setup: Setup, tenants: Tenants, taiUrl: string): Promise<string> {
  const gubernator = await startGubernator(bin, { output: join(setup.dir, 'gubernator.log'), core: SERVER_CORE });
  setup.stops.push(() => gubernator.stop());
  await rateAgreement(`${taiUrl}/v1/rate`, `${gubernator.url}/v1/GetRateLimits`, tenants, { tenant: 'globex', name: 'requests' });
  return gubernator.url;
}

/** Warm-up, TAI's idle event-loop delay, then the rounds: every target at saturation, then every target paced. */
async function measure(setup: Setup, plan: { runs: number; seconds: number; pacedSeconds: number }, log: (line: string) => void): Promise<Pick<PeerRuns, 'saturation' | 'paced' | 'delays' | 'idle'>> {
  const { targets } = setup;
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  for (const t of targets) checked(t, await runCannon({ url: t.url, method: 'POST', body: t.body, connections: CONNECTIONS, duration: 1 })); // optimised code, warm caches
  const idle = await idleLoopDelay(targets);
  log(`peers: warmed up (${elapsed()})`);
  const saturation: Samples = new Map();
  const paced: Samples = new Map();
  const delays: Delays = new Map();
  for (let r = 0; r < plan.runs; r++) {
    for (const t of targets) record(saturation, t.name, await watched(t, delays, `${CONNECTIONS} connections`, () => runCannon({ url: t.url, method: 'POST', body: t.body, connections: CONNECTIONS, duration: plan.seconds })));
    for (const t of targets) record(paced, t.name, await watched(t, delays, `${RATE} req/s`, () => runPaced({ url: t.url, body: t.body, rate: RATE, duration: plan.pacedSeconds, connections: CONNECTIONS })));
    log(`peers: round ${r + 1}/${plan.runs} done (${elapsed()})`);
  }
  return { saturation, paced, delays, idle };
}

/** Each TAI server's event-loop delay over 1 s with no load: the baseline of its figures under load. */
async function idleLoopDelay(targets: readonly LoadTarget[]): Promise<Map<string, LoopDelay>> {
  const byServer = new Map<ChildServer, LoopDelay>();
  for (const t of targets) {
    if (t.server === undefined || byServer.has(t.server)) continue;
    await t.server.resetLoopDelay();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    byServer.set(t.server, await t.server.readLoopDelay());
  }
  return new Map(targets.filter((t) => t.server !== undefined).map((t) => [t.name, byServer.get(t.server!)!]));
}

/** One load, checked; for a TAI target, with its server's event-loop delay recorded under `phase`. */
async function watched(t: LoadTarget, delays: Delays, phase: string, load: () => Promise<CannonResult>): Promise<CannonResult> {
  if (t.server === undefined) return checked(t, await load());
  return recordLoopDelay(delays, { server: t.server, phase, name: t.name }, async () => checked(t, await load()));
}

/** A figure over failed requests would measure the failure path: refuse it. */
function checked(t: LoadTarget, result: CannonResult): CannonResult {
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${t.name}: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`);
  return result;
}

function record(samples: Samples, name: string, r: CannonResult): void {
  samples.set(name, [...(samples.get(name) ?? []), r]);
}
