// Issue 15, defect 5: every way of starting again gives back what the running process held. For any history of
// decisions (the 2^53 edges, lone-surrogate attempts that must leave no trace, idempotent retries, windows and
// keys expiring), recorded in a real ReceiptLog in a temp dir, the usage cells (with their fired thresholds) and
// the idempotency table are the same:
//   - in the running process,
//   - after a full replay of the log,
//   - from each saved state.json (written as the server writes it), with the entries after it replayed — which is
//     also the crash case: entries on disk that state.json does not cover.
import test from 'ava';
import fc from 'fast-check';
import { deepStrictEqual } from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SkuSpec } from '../crds/index.ts';
import { CompiledPolicy, DecisionInputError, Governor, PolicyCompiler, type DecisionRequest } from '../governor/index.ts';
import { skuOf, tenantOf } from '../governor/policy-fixtures.test-helper.ts';
import { loadRunState, ReceiptLog, saveRunState, type PublisherState, type ResumePoint } from '../receipts/store/index.ts';
import { LogReplay, replayStateOf, type ReplayState } from '../recording/log-replay.ts';
import { RecordedGovernor, recordThreshold } from '../recording/recorded-governor.ts';

const MAX = Number.MAX_SAFE_INTEGER;
const START = Date.parse('2026-11-28T12:00:00Z');
const HOUR = 3_600_000;

const SPEC: SkuSpec = {
  features: { sso: true, tier: 'gold' },
  quotas: {
    hard: { limit: 40, window: 'minute', alertAt: [50, 100] },
    soft: { limit: 10, enforcement: 'soft', window: 'minute', alertAt: [70, 100] },
    observe: { limit: MAX, enforcement: 'observe', window: 'hour' },
    edge: { limit: MAX, window: 'none', alertAt: [1, 100] },
    seats: { limit: 20, kind: 'gauge', enforcement: 'soft', alertAt: [50, 90, 100] },
    slots: { limit: MAX, kind: 'gauge', alertAt: [50] },
  },
  rates: { requests: { perSecond: 1, burst: MAX } },
};
const METRICS = ['hard', 'soft', 'observe', 'edge', 'seats', 'slots', 'nope'];
const LONE = ['k\ud800', '\udfff', 'x\ud83d'];

type Step =
  | { do: 'decide'; request: DecisionRequest }
  | { do: 'batch'; requests: DecisionRequest[] }
  | { do: 'wait'; ms: number }
  | { do: 'save' };

const amount = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -25, max: 25 }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, MAX, -MAX, MAX - 1, 2 ** 52) },
);
const text = (names: readonly string[]) => fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom(...LONE) });
const key = fc.option(text(['k0', 'k1', 'k2']), { nil: undefined, freq: 2 });
const tenant = fc.oneof({ weight: 8, arbitrary: fc.constant('acme') }, { weight: 1, arbitrary: text(['umbrella', 'ghost']) });

/** Decisions of one history, on two of the metrics (so that a history dwells on them long enough to matter). */
const request = (metrics: readonly string[]): fc.Arbitrary<DecisionRequest> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ op: fc.constant('consume' as const), tenant, metric: text(metrics), amount, idempotencyKey: key }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('check' as const), tenant, feature: text(['sso', 'tier', 'nope']) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('rate' as const), tenant, name: text(['requests', 'nope']), cost: fc.constantFrom(0, 1, MAX) }) },
  );

const step = (metrics: readonly string[]): fc.Arbitrary<Step> =>
  fc.oneof(
    { weight: 10, arbitrary: request(metrics).map((r) => ({ do: 'decide' as const, request: r })) },
    { weight: 5, arbitrary: fc.array(request(metrics), { minLength: 1, maxLength: 6 }).map((rs) => ({ do: 'batch' as const, requests: rs })) },
    // Within a minute, past a window, or past the 24 h key TTL.
    { weight: 2, arbitrary: fc.constantFrom(0, 1_000, 30_000, 61_000, HOUR, 25 * HOUR).map((ms) => ({ do: 'wait' as const, ms })) },
    { weight: 1, arbitrary: fc.constant({ do: 'save' as const }) },
  );

const history = fc
  .uniqueArray(fc.constantFrom(...METRICS), { minLength: 2, maxLength: 2 })
  .chain((metrics) => fc.array(step(metrics), { minLength: 1, maxLength: 40 }));

const consume = (metric: string, n: number): DecisionRequest => ({ op: 'consume', tenant: 'acme', metric, amount: n });
const decide = (request: DecisionRequest): Step => ({ do: 'decide', request });

/** What a restart must give back, in a form to compare: cells by key, answers as a client sees them. */
function heldBy(governor: Governor, now: number) {
  const cells = [...governor.usage.cells()].map((c) => JSON.stringify(c)).sort();
  const answers = [...governor.idempotency.entries(now)].map((e) => JSON.stringify([e.tenant, e.key, e.storedAt, JSON.parse(JSON.stringify(e.value))])).sort();
  return { cells, answers };
}

class Run {
  now = START;
  readonly clock = { now: () => this.now };
  readonly policy: CompiledPolicy;
  governor!: Governor;
  recorded!: RecordedGovernor;
  log!: ReceiptLog;
  readonly saves: string[] = [];
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    const compiler = new PolicyCompiler();
    compiler.apply({ upsert: [skuOf('growth', SPEC), tenantOf('acme', { sku: 'growth' }), tenantOf('umbrella', { sku: 'growth', suspended: true })] }, START);
    this.policy = new CompiledPolicy(compiler);
  }

  async open(): Promise<void> {
    this.log = await ReceiptLog.open({ dir: this.dir, durability: 'async', asyncDelayMs: 60_000, clock: this.clock });
    this.governor = this.fresh();
    this.recorded = new RecordedGovernor(this.governor, this.log);
  }

  /** A governor as the server makes one: threshold crossings recorded before the decision that crossed. */
  fresh(log: ReceiptLog = this.log): Governor {
    return new Governor({ policy: this.policy, clock: this.clock, onThreshold: (e) => recordThreshold(log, e) });
  }

  /** Runs one step; a refusal (DecisionInputError) must leave the log and the governor's state as they were. */
  async run(s: Step): Promise<void> {
    if (s.do === 'wait') return void (this.now += s.ms);
    if (s.do === 'save') return this.save();
    const before = { size: this.log.size, ...heldBy(this.governor, this.now) };
    try {
      if (s.do === 'batch') await this.recorded.batch(s.requests);
      else await this.decide(s.request);
    } catch (e) {
      if (!(e instanceof DecisionInputError)) throw e;
      const after = { size: this.log.size, ...heldBy(this.governor, this.now) };
      if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error(`a refused request (${e.message}) changed state`, { cause: e });
    }
  }

  decide(r: DecisionRequest): Promise<unknown> {
    if (r.op === 'check') return this.recorded.check(r);
    if (r.op === 'rate') return this.recorded.rate(r);
    return this.recorded.consume(r);
  }

  /** Saves state.json as the server does: state taken in one tick, written once the entries it covers are on disk. */
  async save(): Promise<void> {
    const replay = replayStateOf(this.governor, new Map(), this.now);
    const pointing = this.log.captureResumePoint();
    await this.log.flush();
    const path = join(this.dir, `state-${this.saves.length}.json`);
    await saveRunState(path, { version: 1, log: await pointing, publisher: {} as PublisherState, replay });
    this.saves.push(path);
  }

  /** A governor restarted from the log (and a saved state, when given), as startServer does it. */
  async restart(statePath?: string): Promise<Governor> {
    const saved = statePath === undefined ? undefined : await loadRunState<ReplayState>(statePath);
    if (statePath !== undefined && saved === undefined) throw new Error(`${statePath} did not load`);
    const replay = new LogReplay(saved?.replay);
    const log = await ReceiptLog.open({ dir: this.dir, durability: 'async', clock: this.clock, resume: saved?.log as ResumePoint | undefined, onEntry: (e) => replay.add(e) });
    await log.close();
    if (statePath !== undefined && log.recovery.resumedAt !== saved!.log.size) throw new Error(`${statePath} was not resumed from`);
    const governor = this.fresh(log);
    replay.restore(governor);
    return governor;
  }
}

test('property: state.json, full replay and a crash after state.json all give back the running usage, thresholds and keys', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tai-restart-'));
  t.teardown(() => rm(root, { recursive: true, force: true }));
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(history, async (steps) => {
      const run = new Run(join(root, String(runs++)));
      await run.open();
      try {
        for (const s of steps) await run.run(s);
        // The crash case: entries appended after the last save are on disk, state.json does not cover them.
        await run.log.flush();
        const running = heldBy(run.governor, run.now);
        const restarts: Array<[string, Governor]> = [['full replay', await run.restart()]];
        for (const path of run.saves) restarts.push([path.slice(root.length), await run.restart(path)]);
        for (const [how, governor] of restarts) deepStrictEqual(heldBy(governor, run.now), running, how);
      } finally {
        await run.log.close();
      }
    }),
    {
      numRuns: 600,
      // A batch that re-arms a gauge's threshold and crosses it again: its threshold receipts precede its decisions.
      examples: [[[decide(consume('seats', 19)), { do: 'batch', requests: [consume('seats', -3), consume('seats', 2)] }]]],
    },
  );
  t.pass();
});
