import { parseQuantity } from '../../crds/index.ts';

/**
 * Amounts of the resources a Tenant's `resources` caps name (`namespaces`, `count/pods`, `requests.cpu`, …),
 * in milli-units: one object is 1000, one core is 1000, one byte is 1000. Integers, so that sums over many
 * objects are exact where floating cores (0.1 + 0.2) would not be.
 */
export type ResourceVector = Map<string, number>;

const MILLI = 1000;

/** A quantity ("500m", "2Gi", 3) in milli-units, rounded up as Kubernetes rounds requests; 0 when unparseable. */
export function milli(quantity: unknown): number {
  if (typeof quantity !== 'string' && typeof quantity !== 'number') return 0;
  const value = parseQuantity(quantity);
  return value === undefined ? 0 : Math.ceil(value * MILLI - 1e-6);
}

/** Whole objects as milli-units. */
export function objects(n: number): number {
  return n * MILLI;
}

/** Adds `b` into `a` (scaled by `times`), in place; returns `a`. */
export function addInto(a: ResourceVector, b: ReadonlyMap<string, number>, times = 1): ResourceVector {
  for (const [k, v] of b) {
    const sum = (a.get(k) ?? 0) + v * times;
    if (sum === 0) a.delete(k);
    else a.set(k, sum);
  }
  return a;
}

/** `after − before`, keeping only the resources that grow (what an update adds). */
export function growth(after: ReadonlyMap<string, number>, before: ReadonlyMap<string, number> | undefined): ResourceVector {
  const out: ResourceVector = new Map();
  for (const [k, v] of after) {
    const d = v - (before?.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

const BINARY = [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const;

/** A milli-unit amount as a Kubernetes quantity for messages: cores as "1500m" or "2", bytes as "8Gi" where exact. */
export function formatAmount(resource: string, amount: number): string {
  if (/cpu$/.test(resource)) return amount % MILLI === 0 ? String(amount / MILLI) : `${amount}m`;
  const whole = Math.ceil(amount / MILLI);
  if (/(memory|storage)$/.test(resource)) {
    const unit = BINARY.find(([, size]) => whole >= size && whole % size === 0);
    if (unit) return `${whole / unit[1]}${unit[0]}`;
  }
  return String(whole);
}
