import test from 'ava';
import fc from 'fast-check';
import type { z } from 'zod';
import { FAST_CHECK, FAST_CONSUME, FAST_RATE, fastParse, type FastShape } from './decision-fast-check.ts';
import { checkBody, consumeBody, rateBody } from './decision-schemas.ts';

// Strings near the length limits, empty, with lone surrogates; numbers of every kind; the keys a body may carry.
const str = fc.oneof(
  fc.string({ maxLength: 4 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
  fc.constantFrom('\ud800', 'a\udc00', 'x'.repeat(128), 'x'.repeat(129), 'x'.repeat(253), 'x'.repeat(254), 'x'.repeat(256), 'x'.repeat(257)),
);
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(-1, 0, 2 ** 53, -(2 ** 53), 1.5, -0));
const value = fc.oneof(str, num, fc.constant(null), fc.boolean(), fc.constant(undefined), fc.array(fc.integer(), { maxLength: 1 }), fc.constant({}));
const KEYS = ['tenant', 'feature', 'metric', 'amount', 'idempotencyKey', 'name', 'cost', 'op', '__proto__', 'constructor', 'toString'];
const body = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 }),
  value,
  // Plausible bodies: the right keys with mostly right values; parsed from JSON so "__proto__" is an own key.
  fc.record({ tenant: str, feature: str, metric: str, amount: num, idempotencyKey: str, name: str, cost: num, extra: value }, { requiredKeys: [] }),
  fc.constantFrom('{"tenant":"t","feature":"f","__proto__":{}}', '{"__proto__":"x","tenant":"t","feature":"f"}').map((t) => JSON.parse(t) as unknown),
  fc.constant(Object.assign(Object.create(null) as object, { tenant: 't', feature: 'f' })),
);

const cases: [string, FastShape, z.ZodType][] = [
  ['check', FAST_CHECK, checkBody],
  ['consume', FAST_CONSUME, consumeBody],
  ['rate', FAST_RATE, rateBody],
];

for (const [name, shape, schema] of cases) {
  test(`fast ${name}: says yes only where zod does, with zod's data (keys in order)`, (t) => {
    fc.assert(
      fc.property(body, (b) => {
        const fast = fastParse(shape, b);
        const zod = schema.safeParse(b);
        if (fast === undefined) return true;
        return zod.success && JSON.stringify(Object.entries(fast)) === JSON.stringify(Object.entries(zod.data as object)) && Object.is((fast as { amount?: number }).amount, (zod.data as { amount?: number }).amount);
      }),
      { numRuns: 20_000 },
    );
    t.pass();
  });

  test(`fast ${name}: says yes to every plain body zod accepts`, (t) => {
    fc.assert(
      fc.property(body, (b) => {
        const zod = schema.safeParse(b);
        if (!zod.success || typeof b !== 'object' || b === null || Object.getPrototypeOf(b) !== Object.prototype) return true;
        return fastParse(shape, b) !== undefined;
      }),
      { numRuns: 20_000 },
    );
    t.pass();
  });
}
