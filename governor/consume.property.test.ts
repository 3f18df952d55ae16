import test from 'ava';
import fc from 'fast-check';
import type { QuotaKind } from '../crds/index.ts';
import type { ConsumeDecision } from './decide-types.ts';
import { Governor } from './governor.ts';
import { MemoryUsageStore } from './usage.ts';
import { ManualClock, MutablePolicy, quota, tenant } from './fixtures.test-helper.ts';

const METRIC = 'api-calls';

type Step =
  | { kind: 'consume'; amount: number; key: string | undefined }
  | { kind: 'limit'; limit: number }
  | { kind: 'wait'; ms: number };

const step = (quotaKind: QuotaKind): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('consume' as const),
        amount: fc.oneof(fc.constant(0), fc.integer({ min: quotaKind === 'gauge' ? -20 : 0, max: 30 })),
        key: fc.option(fc.constantFrom('k0', 'k1', 'k2', 'k3'), { nil: undefined }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('limit' as const), limit: fc.integer({ min: 0, max: 60 }) }) },
    // Short waits stay inside the month window and well under the 24 h key TTL.
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 60_000 }) }) },
  );

const scenario = fc
  .constantFrom<QuotaKind>('counter', 'gauge')
  .chain((kind) => fc.record({ kind: fc.constant(kind), initialLimit: fc.integer({ min: 0, max: 60 }), steps: fc.array(step(kind), { maxLength: 60 }) }));

test('property: a hard quota is never exceeded, a denied call is never counted, a replay counts nothing', (t) => {
  fc.assert(
    fc.property(scenario, ({ kind, initialLimit, steps }) => {
      const clock = new ManualClock();
      const policy = new MutablePolicy(tenant({ quotas: { [METRIC]: quota({ kind, limit: initialLimit }) } }));
      const usage = new MemoryUsageStore();
      const governor = new Governor({ policy, clock, usage });
      const used = () => [...usage.cells()].reduce((sum, cell) => sum + cell.used, 0);
      const stored = new Map<string, ConsumeDecision>();
      let limit = initialLimit;
      for (const s of steps) {
        if (s.kind === 'limit') {
          limit = s.limit;
          policy.setQuota('acme', METRIC, quota({ kind, limit }));
          continue;
        }
        if (s.kind === 'wait') {
          clock.advance(s.ms);
          continue;
        }
        const before = used();
        const decision = governor.consume({ tenant: 'acme', metric: METRIC, amount: s.amount, idempotencyKey: s.key });
        const after = used();
        const replayed = s.key === undefined ? undefined : stored.get(s.key);
        if (replayed !== undefined) {
          // A replay: the identical first decision, nothing counted.
          if (decision !== replayed || after !== before) return false;
          continue;
        }
        if (s.key !== undefined && s.amount !== 0) stored.set(s.key, decision);
        if (decision.used !== after || decision.limit !== limit) return false;
        if (s.amount === 0) {
          // A peek counts nothing and answers whether one more unit fits.
          if (after !== before || decision.allowed !== before < limit) return false;
          continue;
        }
        if (!decision.allowed) {
          // Denied: never counted, and only when the amount truly did not fit.
          if (after !== before || decision.reason !== 'QuotaExceeded' || s.amount < 0 || before + s.amount <= limit) return false;
          continue;
        }
        if (after !== Math.max(0, before + s.amount)) return false;
        // An allowed positive consume never takes usage past the limit in force, so once the limit has been
        // lowered below usage, no positive consume is allowed until usage falls back under it.
        if (s.amount > 0 && after > limit) return false;
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.pass();
});
