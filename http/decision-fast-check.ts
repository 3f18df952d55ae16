/**
 * A hand-written check of the three hot bodies (check, consume, rate) that accepts exactly what their zod schemas
 * in decision-schemas.ts accept and returns the same data (a fresh object, keys in the schema's order). It only
 * says yes: when it says no, zod runs, so every error message stays zod's (decision-fast-check.test.ts proves the
 * equivalence against the schemas).
 */
type Field = { key: string; kind: 'string' | 'number'; min?: number; max?: number; optional?: boolean };
export type FastShape = readonly Field[];

const text = (key: string, max: number, optional = false): Field => ({ key, kind: 'string', min: 1, max, optional });
export const FAST_CHECK: FastShape = [text('tenant', 253), text('feature', 128)];
export const FAST_CONSUME: FastShape = [
  text('tenant', 253),
  text('metric', 128),
  { key: 'amount', kind: 'number' },
  text('idempotencyKey', 256, true),
];
export const FAST_RATE: FastShape = [text('tenant', 253), text('name', 128), { key: 'cost', kind: 'number', optional: true }];

function fits(f: Field, v: unknown): boolean {
  if (f.kind === 'number') return typeof v === 'number' && Number.isFinite(v);
  return typeof v === 'string' && v.length >= f.min! && v.length <= f.max! && v.isWellFormed();
}

/** The body as zod would return it, or undefined when zod must decide (and word the error). */
export function fastParse(shape: FastShape, body: unknown): Record<string, unknown> | undefined {
  if (typeof body !== 'object' || body === null || Object.getPrototypeOf(body) !== Object.prototype) return undefined;
  const o = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let seen = 0;
  for (const f of shape) {
    if (!Object.hasOwn(o, f.key)) {
      if (f.optional) continue;
      return undefined;
    }
    const v = o[f.key];
    if (!fits(f, v)) return undefined;
    out[f.key] = v;
    seen++;
  }
  // Strict: any other key (an inherited-looking "__proto__" included) is zod's 400.
  return Object.keys(o).length === seen ? out : undefined;
}
