/**
 * Issue 15, defect 9, and issue 19 (no stall over 10 ms while a policy of 100 000 tenants is reloaded): how long a
 * large embedded policy holds the event loop. Writes a folder of the sample SKUs and N tenants (default 31 000,
 * about 10 MB of YAML), loads it with the server's pipeline (sliced parse, compile with the receipt-size check,
 * reconcile receipts into a real log), then saves one tenant's change and reloads, then changes the SKU 70 % of the
 * tenants are on (a feature of `starter`) and reloads. perf_hooks.monitorEventLoopDelay reports the longest the loop
 * was held in each phase and its p99, sliced (what the server does) and, as the baseline, whole: a pause that never
 * yields, so parse, compile and receipts run in one tick (the old path). The `policy-reload` scenario of
 * `npm run bench` runs the same.
 *
 *   node bench/policy-load-lag.ts [TENANTS]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { EmbeddedPolicy } from '../server/embedded-policy.ts';
import { recordPolicyChanges } from '../server/policy-boundaries.ts';
import { pauseForIo, type Pause } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { PolicyReceipts } from '../recording/policy-receipts.ts';
import { checkEntitlementsReceipt } from '../recording/reconcile-size.ts';
import { BENCH_NOW, tenantAt } from './fixtures/population.ts';

const clock = { now: () => BENCH_NOW };

/** How long one phase took and held the event loop. */
export interface PhaseLag {
  phase: 'first load' | 'reload after one tenant changed' | 'reload after the starter SKU changed';
  totalMs: number;
  maxMs: number;
  p99Ms: number;
}

/** A tenant of the bench population, with an annotation that brings the file to about 330 bytes a tenant. */
const tenantYaml = (i: number, note = 'x'): string => {
  const t = tenantAt(i);
  return stringify({ ...t, metadata: { ...t.metadata, annotations: { 'example.com/owner': `team-${i % 97}@example.com`, 'example.com/note': note.padEnd(80, '.') } } });
};

async function measure(phase: PhaseLag['phase'], work: () => Promise<unknown>): Promise<PhaseLag> {
  const h = monitorEventLoopDelay({ resolution: 2 });
  h.enable();
  const started = performance.now();
  await work();
  const totalMs = performance.now() - started;
  // The sampling timer records a held loop when it next runs: give it that turn before reading.
  await new Promise((resolve) => setTimeout(resolve, 30));
  h.disable();
  return { phase, totalMs, maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 };
}

/** The three phases on a fresh folder of `tenants` tenants, sliced (the server's path) or whole (the old one). */
export async function policyLoadLag(tenants: number, mode: 'sliced' | 'whole', onPhase: (p: PhaseLag) => void = () => undefined): Promise<PhaseLag[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-lag-'));
  try {
    await cp(fileURLToPath(new URL('../config/samples/skus.yaml', import.meta.url)), join(dir, 'skus.yaml'));
    const docs = Array.from({ length: tenants }, (_, i) => tenantYaml(i));
    const file = join(dir, 'tenants.yaml');
    await writeFile(file, docs.join('---\n'));
    const log = await ReceiptLog.open({ dir: join(dir, 'log'), durability: 'async', clock });
    const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
    // The old path: a pause that only awaits a resolved promise never lets the loop turn.
    const pause: Pause = mode === 'sliced' ? pauseForIo : async () => undefined;
    const policy = new EmbeddedPolicy({ dir, compiler, clock, pause });
    const stop = recordPolicyChanges({ compiler, receipts: new PolicyReceipts(log, new Map()), tenantResource: (n) => policy.tenantResource(n), clock, onError: (e) => console.error(e) });
    const phases: PhaseLag[] = [];
    const phase = async (name: PhaseLag['phase'], work: () => Promise<unknown>): Promise<void> => {
      phases.push(await measure(name, work));
      onPhase(phases.at(-1)!);
    };
    await phase('first load', () => policy.load());
    docs[tenants >> 1] = tenantYaml(tenants >> 1, 'changed');
    await writeFile(file, docs.join('---\n'));
    await phase('reload after one tenant changed', () => policy.reload());
    const skus = join(dir, 'skus.yaml');
    await writeFile(skus, (await readFile(skus, 'utf8')).replace('support: community', 'support: forum'));
    await phase('reload after the starter SKU changed', () => policy.reload());
    stop();
    await log.close();
    return phases;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One line per phase, as the command prints it. */
export function phaseLine(mode: string, p: PhaseLag): string {
  const ms = (v: number): string => v.toFixed(v < 100 ? 1 : 0).padStart(6);
  return `${`${mode}: ${p.phase}`.padEnd(44)} ${(p.totalMs / 1000).toFixed(2).padStart(6)} s in all, event loop held at most ${ms(p.maxMs)} ms (p99 ${ms(p.p99Ms)} ms)`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tenants = Number(process.argv[2] ?? 31_000);
  console.log(`${tenants} tenants`);
  for (const mode of ['whole', 'sliced'] as const) await policyLoadLag(tenants, mode, (p) => console.log(phaseLine(mode, p)));
}
