/**
 * Profiles one phase of a bench scenario (a full compile, repeated one-change recompiles, or repeated
 * governor.consume calls) with the V8 CPU profiler, writes the .cpuprofile and prints its top frames. Only the
 * phase is profiled, not the population building around it.
 *
 *   node bench/profile.ts --tenants 100000 --phase change-tenant --changes 200 [--out /tmp/tai-change.cpuprofile]
 *   node bench/profile.ts --tenants 10000 --phase consume --changes 1000000
 *
 * --no-inspector runs the phase without the inspector's profiler, for an outside one (npm run profile, which runs
 * this under clinic flame).
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { BENCH_NOW, PLAIN_TENANT, SELECTED_TENANT, population, rareSku, tenantAt } from './fixtures/population.ts';
import { topFrames, type CpuProfile } from './profile-top.ts';

const PHASES = ['compile', 'change-tenant', 'change-selected-tenant', 'change-sku', 'consume'] as const;
const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '100000' },
    phase: { type: 'string', default: 'change-tenant' },
    /** Changes, or consume calls for --phase consume. */
    changes: { type: 'string', default: '200' },
    out: { type: 'string' },
    inspector: { type: 'boolean', default: true },
  },
  allowNegative: true,
});
const phase = values.phase as (typeof PHASES)[number];
const tenants = Number(values.tenants);
const changes = Number(values.changes);
if (!PHASES.includes(phase) || !Number.isSafeInteger(tenants) || !Number.isSafeInteger(changes)) {
  console.error(`usage: node bench/profile.ts --tenants N --phase ${PHASES.join('|')} [--changes K] [--out FILE] [--no-inspector]`);
  process.exit(2);
}

const p = population(tenants);
const all = [...p.skus, ...p.tenants, ...p.quotas];
const compiler = new PolicyCompiler();
if (phase !== 'compile') compiler.apply({ upsert: all }, BENCH_NOW);

const governor = new Governor({ policy: new CompiledPolicy(compiler), clock: { now: () => BENCH_NOW } });
// Tenants on the starter plan: api-calls is a hard counter there.
const consumers = p.tenants.filter((t) => t.spec.sku === 'starter' && !t.spec.suspended && !t.spec.overrides).map((t) => t.metadata.name);

function change(k: number): void {
  if (phase === 'consume') {
    governor.consume({ tenant: consumers[k % consumers.length]!, metric: 'api-calls', amount: 1 });
    return;
  }
  if (phase === 'change-sku') {
    compiler.apply({ upsert: [rareSku(76 + (k % 2), k + 2)] }, BENCH_NOW);
    return;
  }
  const t = tenantAt(phase === 'change-selected-tenant' ? SELECTED_TENANT : PLAIN_TENANT);
  compiler.apply({ upsert: [{ ...t, metadata: { ...t.metadata, generation: k + 2 }, spec: { ...t.spec, overrides: { features: { 'max-projects': 4 + (k % 2) } } } }] }, BENCH_NOW);
}

function runPhase(): number {
  const start = process.hrtime.bigint();
  if (phase === 'compile') compiler.apply({ upsert: all }, BENCH_NOW);
  else for (let k = 0; k < changes; k++) change(k);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const per = (elapsedMs: number): string => (phase === 'compile' ? `${elapsedMs.toFixed(0)} ms` : `${changes} × ${phase}, ${((elapsedMs * 1000) / changes).toFixed(2)} µs each`);
/** Runs the phase under the inspector's CPU profiler, writes the .cpuprofile and prints its top frames. */
async function profiled(): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  const elapsedMs = runPhase();
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  const out = values.out ?? `/tmp/tai-${phase}-${tenants}.cpuprofile`;
  writeFileSync(out, JSON.stringify(profile));
  console.log(`${phase} at ${tenants} tenants: ${per(elapsedMs)} (under the profiler); profile: ${out}\n`);
  console.log(topFrames(profile as CpuProfile));
}

if (values.inspector) await profiled();
else console.log(`${phase} at ${tenants} tenants: ${per(runPhase())}`);
