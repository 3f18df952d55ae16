/**
 * Issue 15, defect 9: how long a large embedded policy holds the event loop. Writes a folder of the sample SKUs
 * and N tenants (default 31 000, about 10 MB of YAML), loads it with the server's pipeline (sliced parse,
 * compile with the receipt-size check, reconcile receipts into a real log), then saves one tenant's change and
 * reloads, then changes the SKU 70 % of the tenants are on (a feature of `starter`) and reloads. perf_hooks.monitorEventLoopDelay reports the longest the loop was held in each phase, with the
 * parse in slices (what the server does) and, as the baseline, whole (a pause that never yields: the old path).
 *
 *   node bench/policy-load-lag.ts [TENANTS]
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { EmbeddedPolicy } from '../server/embedded-policy.ts';
import { recordPolicyChanges } from '../server/policy-boundaries.ts';
import { pauseForIo, type Pause } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { PolicyReceipts } from '../recording/policy-receipts.ts';
import { checkEntitlementsReceipt } from '../recording/reconcile-size.ts';
import { BENCH_NOW, tenantAt } from './fixtures/population.ts';

const tenants = Number(process.argv[2] ?? 31_000);
const clock = { now: () => BENCH_NOW };

/** A tenant of the bench population, with an annotation that brings the file to about 330 bytes a tenant. */
const tenantYaml = (i: number, note = 'x'): string => {
  const t = tenantAt(i);
  return stringify({ ...t, metadata: { ...t.metadata, annotations: { 'example.com/owner': `team-${i % 97}@example.com`, 'example.com/note': note.padEnd(80, '.') } } });
};

async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 5 });
  h.enable();
  const started = performance.now();
  await work();
  const ms = performance.now() - started;
  // The sampling timer records a held loop when it next runs: give it that turn before reading.
  await new Promise((resolve) => setTimeout(resolve, 30));
  h.disable();
  console.log(`${label.padEnd(44)} ${(ms / 1000).toFixed(2).padStart(6)} s in all, event loop held at most ${(h.max / 1e6).toFixed(0).padStart(5)} ms (p99 ${(h.percentile(99) / 1e6).toFixed(0)} ms)`);
}

async function run(mode: 'sliced' | 'whole'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-lag-'));
  try {
    await cp('config/samples/skus.yaml', join(dir, 'skus.yaml'));
    const docs = Array.from({ length: tenants }, (_, i) => tenantYaml(i));
    const file = join(dir, 'tenants.yaml');
    await writeFile(file, docs.join('---\n'));
    if (mode === 'sliced') console.log(`${tenants} tenants, ${((await readFile(file)).length / 1e6).toFixed(1)} MB of YAML`);
    const log = await ReceiptLog.open({ dir: join(dir, 'log'), durability: 'async', clock });
    const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
    // The old path parsed in one go: a pause that only awaits a resolved promise never lets the loop turn.
    const pause: Pause = mode === 'sliced' ? pauseForIo : async () => undefined;
    const policy = new EmbeddedPolicy({ dir, compiler, clock, pause });
    const stop = recordPolicyChanges({ compiler, receipts: new PolicyReceipts(log, new Map()), tenantResource: (n) => policy.tenantResource(n), clock, onError: (e) => console.error(e) });
    await measure(`${mode}: first load (every tenant recorded)`, () => policy.load());
    docs[tenants >> 1] = tenantYaml(tenants >> 1, 'changed');
    await writeFile(file, docs.join('---\n'));
    await measure(`${mode}: reload after one tenant changed`, () => policy.reload());
    const skus = join(dir, 'skus.yaml');
    await writeFile(skus, (await readFile(skus, 'utf8')).replace('support: community', 'support: forum'));
    await measure(`${mode}: reload after the starter SKU changed`, () => policy.reload());
    stop();
    await log.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await run('whole');
await run('sliced');
