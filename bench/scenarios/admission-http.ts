/**
 * Admission reviews over HTTP (design §10): a ~6 KB Deployment CREATE in a tenant's namespace, POSTed to
 * `/admission/validate` of a real operator (`tai serve --kubeconfig` on a control plane of its own, its
 * informers synced; every review a receipt, durability sync) against a bare node:http server that only parses
 * the same body and allows it. Both plain HTTP on CPU 1, autocannon on CPU 0; the API server is idle during the
 * load (it never sits on the review path: the informers hold what the checks need). Both servers record their
 * event loop's delay during each load (bench/loop-delay.ts), reported beside each other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterDown, clusterUp, kubectl, type Cluster } from '../../test/support/cluster.ts';
import { installTai } from '../../test/support/operator.ts';
import { startChildServer, type ChildServer } from '../child-server.ts';
import { pinning } from '../cpu-pin.ts';
import { deploymentReview } from '../fixtures/deployment-review.ts';
import type { CannonResult } from '../load/cannon.ts';
import { LOAD_CORE, runCannon, SERVER_CORE } from '../load/run-cannon.ts';
import { loopDelayFigures, recordLoopDelay, type Delays } from '../loop-delay.ts';
import { median } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

const NAMESPACE = 'bench-shop';
const POLICY = [
  { apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'bench-plan' }, spec: { resources: { namespaces: 5, 'count/pods': 10000, 'requests.cpu': '1000', 'requests.memory': '4Ti', 'limits.cpu': '1000', 'limits.memory': '4Ti' } } },
  { apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'bench-co' }, spec: { sku: 'bench-plan' } },
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { 'tai.dev/tenant': 'bench-co' } } },
];

const BARE = 'bare node:http parsing the same review';

export async function admissionHttpScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const plan = preset.name === 'full' ? { runs: 5, seconds: 5 } : { runs: 3, seconds: 3 };
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-admission-'));
  log('admission-http: starting a control plane of its own');
  const cluster = await clusterUp(join(dir, 'cluster'));
  const servers: ChildServer[] = [];
  try {
    await installPolicy(cluster);
    const bare = await startChildServer(['bench/load/bare-server.ts', 'parse'], SERVER_CORE, { loopDelay: true });
    const op = await startChildServer(['cli/tai.ts', 'serve', '--kubeconfig', cluster.kubeconfig, '--listen', '127.0.0.1:0', '--auth', 'none', '--log', join(dir, 'log'), '--key', join(dir, 'key'), '--identity', 'bench', '--lease-namespace', 'tai-system'], SERVER_CORE, { loopDelay: true });
    servers.push(bare, op);
    await untilReady(op.url);
    const body = JSON.stringify(deploymentReview(NAMESPACE, '7d3f0c1e-5b2a-4c8d-9e6f-0a1b2c3d4e5f'));
    await expectAllowed(op.url, body);
    const targets = [{ name: BARE, url: `${bare.url}/`, server: bare }, { name: 'Deployment review', url: `${op.url}/admission/validate`, server: op }];
    log(`admission-http: ${body.length}-byte reviews, ${plan.runs} runs of ${plan.seconds} s; server ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}`);
    for (const t of targets) await runCannon({ url: t.url, method: 'POST', body, connections: 50, duration: 1 }); // warm-up
    const samples = new Map<string, CannonResult[]>(targets.map((t) => [t.name, []]));
    const delays: Delays = new Map();
    for (let r = 0; r < plan.runs; r++) {
      for (const t of targets) samples.get(t.name)!.push(await recordLoopDelay(delays, { server: t.server, phase: '50 connections', name: t.name }, () => load(t.url, body, plan.seconds)));
    }
    const note = `${body.length}-byte AdmissionReview, 50 connections, ${plan.runs} runs of ${plan.seconds} s; plain HTTP; server ${pinning(SERVER_CORE)}, autocannon ${pinning(LOAD_CORE)}`;
    return [...figures(samples.get(targets[1]!.name)!, samples.get(BARE)!, note), ...loopDelayFigures(delays, note, { scenario: 'admission-http', tenants: 1, bare: BARE })];
  } finally {
    for (const s of servers) await s.stop();
    await clusterDown(cluster.dir, true);
    await rm(dir, { recursive: true, force: true });
  }
}

async function installPolicy(cluster: Cluster): Promise<void> {
  await installTai(cluster);
  const applied = await kubectl(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: POLICY }));
  if (applied.code !== 0) throw new Error(applied.stderr);
}

async function untilReady(url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${url}/readyz`)).ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url}/readyz never became ready`);
}

/** The review takes the whole path (tenant found, caps checked, allowed), not an early exit. */
async function expectAllowed(url: string, body: string): Promise<void> {
  const res = await fetch(`${url}/admission/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const review = (await res.json()) as { response?: { allowed?: boolean; auditAnnotations?: Record<string, string> } };
  if (review.response?.allowed !== true || review.response.auditAnnotations?.receipt === undefined) throw new Error(`admission-http: the bench review was not allowed with a receipt: ${JSON.stringify(review)}`);
}

async function load(url: string, body: string, seconds: number): Promise<CannonResult> {
  const r = await runCannon({ url, method: 'POST', body, connections: 50, duration: seconds });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`admission-http: ${url}: ${r.non2xx} non-2xx and ${r.errors} errors under load`);
  return r;
}

function figures(tai: CannonResult[], bare: CannonResult[], note: string): Figure[] {
  const m = (rs: CannonResult[], pick: (r: CannonResult) => number): number => Number(median(rs.map(pick)).toFixed(3));
  const bareRps = m(bare, (r) => r.requestsPerSecond);
  const common = { scenario: 'admission-http', tenants: 1, note };
  const baseline = BARE;
  return [
    figureOf({ ...common, name: 'Deployment review, 50 connections: throughput', value: m(tai, (r) => r.requestsPerSecond), unit: 'req/s', baseline: { name: baseline, value: bareRps }, samples: tai.map((r) => r.requestsPerSecond), target: { op: '>=', value: Math.round(0.8 * bareRps), unit: 'req/s', source: 'design §10: ≥ 0.8 × bare node:http parsing the body' } }),
    figureOf({ ...common, name: 'Deployment review, 50 connections: p50', value: m(tai, (r) => r.latencyMs.p50), unit: 'ms', baseline: { name: baseline, value: m(bare, (r) => r.latencyMs.p50) }, samples: tai.map((r) => r.latencyMs.p50) }),
    figureOf({ ...common, name: 'Deployment review, 50 connections: p99', value: m(tai, (r) => r.latencyMs.p99), unit: 'ms', baseline: { name: baseline, value: m(bare, (r) => r.latencyMs.p99) }, samples: tai.map((r) => r.latencyMs.p99) }),
  ];
}
