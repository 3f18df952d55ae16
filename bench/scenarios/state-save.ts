/**
 * The run-state save without a stall (issue 19, target 1): state.json as a server holds it after ~1M entries
 * (125 000 idempotent answers: ~59 MB with one tenant; ~137 MB with 100 000 tenants' usage cells and effective
 * entitlements besides) is captured as the server captures it (replayStateOf, one tick) and saved by
 * saveRunState, with the event loop's delay
 * (monitorEventLoopDelay, 1 ms resolution) recorded during each save. Baseline, in the same run: the save as it
 * was before issue 19, one JSON.stringify of the whole state then one write.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CompiledPolicy, Governor, PolicyCompiler, effectiveDocument, type EffectiveDocument } from '../../governor/index.ts';
import { saveRunState, type RunState } from '../../receipts/store/index.ts';
import { writeWholeFile } from '../../receipts/store/whole-file.ts';
import { replayStateOf } from '../../recording/log-replay.ts';
import { BENCH_NOW, population } from '../fixtures/population.ts';
import { median } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

const TENANTS = 100_000;
const ANSWERS = 125_000;
const METRIC = 'api-calls';
const TARGET = { op: '<=', value: 10, unit: 'ms', source: 'issue 19 (no stall over 10 ms)' } as const;

interface Save {
  /** The longest event-loop delay seen during the save, ms. */
  maxMs: number;
  p99Ms: number;
  seconds: number;
}

export async function stateSaveScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const runs = preset.name === 'full' ? 7 : 3;
  // The restart scenario's 1M-entry log (one tenant: the state is its answers, ~59 MB), then 100 000 tenants too.
  return [...(await measured(1, runs, log)), ...(await measured(TENANTS, runs, log))];
}

async function measured(tenants: number, runs: number, log: (line: string) => void): Promise<Figure[]> {
  const { governor, effective } = heldState(tenants);
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-state-'));
  try {
    const captures: number[] = [];
    const sliced: Save[] = [];
    const whole: Save[] = [];
    const oldCaptures: number[] = [];
    for (let run = 0; run < runs; run++) {
      let started = performance.now();
      const replay = replayStateOf(governor, effective, BENCH_NOW);
      captures.push(performance.now() - started);
      started = performance.now();
      // The capture before issue 19: the effective entitlements as an object of every tenant.
      const old = { cells: [...governor.usage.cells()], answers: [...governor.idempotency.entries(BENCH_NOW)], effective: Object.fromEntries(effective) };
      oldCaptures.push(performance.now() - started);
      const state = (r: object): RunState => ({ version: 1, log: { size: 1_000_000 }, publisher: {}, replay: r }) as unknown as RunState;
      whole.push(await watched(() => writeWholeFile(join(dir, 'whole.json'), new TextEncoder().encode(JSON.stringify(state(old))), { exclusive: false })));
      sliced.push(await watched(() => saveRunState(join(dir, 'state.json'), state(replay))));
    }
    const mb = (await stat(join(dir, 'state.json'))).size / 1e6;
    log(`state-save, ${tenants} tenant(s): ${mb.toFixed(1)} MB; capture ${captures.map((c) => c.toFixed(1)).join(', ')} ms (before: ${oldCaptures.map((c) => c.toFixed(1)).join(', ')}); sliced max ${sliced.map((s) => s.maxMs.toFixed(1)).join(', ')} ms; whole max ${whole.map((s) => s.maxMs.toFixed(1)).join(', ')} ms`);
    return figures({ tenants, mb, captures, oldCaptures, sliced, whole });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function figures(m: { tenants: number; mb: number; captures: number[]; oldCaptures: number[]; sliced: Save[]; whole: Save[] }): Figure[] {
  const common = { scenario: 'state-save', tenants: m.tenants, unit: 'ms' };
  const worst = (saves: Save[], k: 'maxMs' | 'p99Ms'): number => Math.max(...saves.map((s) => s[k]));
  const wholeStall = { name: `one JSON.stringify + write (before issue 19), longest stall`, value: worst(m.whole, 'maxMs') };
  const note = `${m.mb.toFixed(1)} MB state.json (${m.tenants} tenant(s)' cells and effective entitlements, ${ANSWERS} idempotent answers); worst of ${m.sliced.length} saves`;
  return [
    figureOf({ ...common, name: 'run-state save: longest event-loop stall', value: worst(m.sliced, 'maxMs'), baseline: wholeStall, target: TARGET, note, samples: m.sliced.map((s) => s.maxMs) }),
    figureOf({ ...common, name: 'run-state save: event-loop delay p99', value: worst(m.sliced, 'p99Ms'), baseline: { name: 'the same, one JSON.stringify', value: worst(m.whole, 'p99Ms') }, note }),
    figureOf({ ...common, name: 'run-state capture (replayStateOf, one tick)', value: median(m.captures), baseline: { name: 'the capture before issue 19 (effective as an object)', value: median(m.oldCaptures) }, target: TARGET, note: 'copies cells, answers and the effective map in the tick the log size is read', samples: m.captures }),
    figureOf({ ...common, unit: 's', name: 'run-state save: duration, sliced', value: median(m.sliced.map((s) => s.seconds)), baseline: { name: 'one JSON.stringify + write', value: median(m.whole.map((s) => s.seconds)) }, samples: m.sliced.map((s) => s.seconds) }),
  ];
}

/** Runs `save` with the event loop's delay recorded throughout. */
async function watched(save: () => Promise<unknown>): Promise<Save> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  await new Promise((resolve) => setTimeout(resolve, 20)); // a quiet loop before, so the histogram starts clean
  delay.enable();
  await new Promise((resolve) => setTimeout(resolve, 5)); // the histogram has no sample to be late before its first
  const started = performance.now();
  await save();
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 5)); // the last stall is recorded by the next sample
  delay.disable();
  return { maxMs: delay.max / 1e6, p99Ms: delay.percentile(99) / 1e6, seconds };
}

/** A governor as ~1M entries leave it: each tenant's usage, its effective entitlements, the answers of keyed consumes. */
function heldState(count: number): { governor: Governor; effective: Map<string, EffectiveDocument> } {
  const compiler = new PolicyCompiler();
  const { skus, tenants, quotas } = population(Math.max(count, 1_000));
  const snapshot = compiler.apply({ upsert: [...skus, ...tenants, ...quotas] }, BENCH_NOW);
  const governor = new Governor({ policy: new CompiledPolicy(compiler), clock: { now: () => BENCH_NOW } });
  const effective = new Map<string, EffectiveDocument>();
  const names = [...snapshot.tenants.keys()].filter((n) => snapshot.tenants.get(n)!.quotas[METRIC] !== undefined).slice(0, count);
  for (const name of names) effective.set(name, effectiveDocument(snapshot.tenants.get(name)!));
  for (let i = 0; i < Math.max(count, ANSWERS); i++) {
    const decision = governor.consume({ tenant: names[i % names.length]!, metric: METRIC, amount: 1 });
    if (i >= ANSWERS) continue;
    // As the replay keeps them (recording/log-replay.ts): the answer with the receipt it was recorded in.
    const answer = { ...decision, receipt: { index: i * 8, leafHash: (i * 2654435761).toString(16).padStart(64, 'a') } };
    governor.idempotency.remember(decision.tenant, `request-${i}`, answer as never, BENCH_NOW);
  }
  return { governor, effective };
}
