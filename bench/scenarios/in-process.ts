import { CompiledPolicy, Governor, PolicyCompiler, type CheckDecision, type CompiledTenant, type ConsumeDecision } from '../../governor/index.ts';
import { population, BENCH_NOW } from '../fixtures/population.ts';
import { median, pairedRuns } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

const TENANTS = 10_000;
const FEATURE = 'max-projects';
const METRIC = 'api-calls';
/** The window end a real consume would compute; the baseline uses it as a constant. */
const RESETS_AT = '2026-07-01T00:00:00Z';
const WINDOW_START = Date.parse('2026-06-01T00:00:00Z');

/** Written by every loop so the optimiser cannot drop the work. */
let sink: unknown;
let allowed = 0;

interface Subjects {
  governor: Governor;
  tenants: ReadonlyMap<string, CompiledTenant>;
  /** Non-suspended tenants (every check is the allowed path). */
  checkNames: string[];
  /** Non-suspended tenants whose api-calls quota is a hard counter. */
  consumeNames: string[];
}

function subjects(): Subjects {
  const compiler = new PolicyCompiler();
  const { skus, tenants, quotas } = population(TENANTS);
  const snapshot = compiler.apply({ upsert: [...skus, ...tenants, ...quotas] }, BENCH_NOW);
  const governor = new Governor({ policy: new CompiledPolicy(compiler), clock: { now: () => BENCH_NOW } });
  const live = [...snapshot.tenants.values()].filter((t) => !t.suspended);
  const hard = live.filter((t) => t.quotas[METRIC]?.kind === 'counter' && t.quotas[METRIC].enforcement === 'hard');
  return { governor, tenants: snapshot.tenants, checkNames: live.map((t) => t.name), consumeNames: hard.map((t) => t.name) };
}

function checkRun(s: Subjects, ops: number): number {
  const { governor, checkNames: names } = s;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const d = governor.check({ tenant: names[i % names.length]!, feature: FEATURE });
    if (d.allowed) allowed++;
    sink = d;
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

/** The irreducible work of a check: find the tenant, read the feature, build the same-shaped decision. */
function checkBaselineRun(s: Subjects, ops: number): number {
  const { tenants, checkNames: names } = s;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const request = { tenant: names[i % names.length]!, feature: FEATURE };
    const t = tenants.get(request.tenant)!;
    const d: CheckDecision = { op: 'check', tenant: request.tenant, feature: request.feature, policy: t.digest, allowed: true, reason: 'Allowed', value: t.features[request.feature]!.value };
    if (d.allowed) allowed++;
    sink = d;
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

function consumeRun(s: Subjects, ops: number): number {
  const { governor, consumeNames: names } = s;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const d = governor.consume({ tenant: names[i % names.length]!, metric: METRIC, amount: 1 });
    if (d.allowed) allowed++;
    sink = d;
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

/** The irreducible work of a consume: find the tenant, read the quota, build the same-shaped decision. */
function consumeBaselineRun(s: Subjects, ops: number): number {
  const { tenants, consumeNames: names } = s;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) {
    const request = { tenant: names[i % names.length]!, metric: METRIC, amount: 1 };
    const t = tenants.get(request.tenant)!;
    const { limit } = t.quotas[request.metric]!;
    const used = i & 0xff;
    const d: ConsumeDecision = {
      op: 'consume', tenant: request.tenant, metric: request.metric, amount: request.amount, allowed: true, reason: 'Allowed',
      used, limit, remaining: limit - used, resetsAt: RESETS_AT, windowStart: WINDOW_START, policy: t.digest,
    };
    if (d.allowed) allowed++;
    sink = d;
  }
  return Number(process.hrtime.bigint() - start) / ops;
}

/** check and consume (counter, hard, no receipt) on 10 000 tenants, each beside its irreducible baseline. */
export function inProcessScenario(preset: Preset, log: (line: string) => void): Figure[] {
  log(`in-process: compiling ${TENANTS} tenants`);
  const s = subjects();
  const plan = { runs: preset.decisionRuns, warmupRuns: preset.warmupRuns };
  const ops = preset.decisionOps;
  const note = `median of ${plan.runs} runs × ${ops} ops after ${plan.warmupRuns} warm-up runs`;
  log(`in-process: governor.check (${note})`);
  allowed = 0;
  const check = pairedRuns(() => checkRun(s, ops), () => checkBaselineRun(s, ops), plan);
  assertAllAllowed('check', 2 * (plan.runs + plan.warmupRuns) * ops);
  log(`in-process: governor.consume (${note})`);
  allowed = 0;
  const consume = pairedRuns(() => consumeRun(s, ops), () => consumeBaselineRun(s, ops), plan);
  assertAllAllowed('consume', 2 * (plan.runs + plan.warmupRuns) * ops);
  if (sink === undefined) throw new Error('no decision was made');
  return [
    figureOf({
      scenario: 'in-process', name: 'governor.check', tenants: TENANTS, value: median(check.subject), unit: 'ns/op',
      baseline: { name: 'Map.get + same-shaped decision', value: median(check.baseline) },
      target: { op: '<=', value: 1000, unit: 'ns/op', source: 'design §10: check ≤ 1 µs' }, samples: check.subject, note,
    }),
    figureOf({
      scenario: 'in-process', name: 'governor.consume (counter, hard, no receipt)', tenants: TENANTS, value: median(consume.subject), unit: 'ns/op',
      baseline: { name: 'Map.get + same-shaped decision', value: median(consume.baseline) },
      samples: consume.subject,
      note: `${note}; the decision alone: the 5 µs target of design §10 is for consume with its receipt (receipt-log scenario)`,
    }),
  ];
}

function assertAllAllowed(what: string, expected: number): void {
  if (allowed !== expected) throw new Error(`in-process ${what}: ${expected - allowed} of ${expected} decisions were denied; the bench must time the allowed path`);
}
