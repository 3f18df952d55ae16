/**
 * Kubernetes resource quantities ("64", "500m", "256Gi", "1e3"), parsed to a number of base units
 * (cores, bytes, objects). Pure; used by the compiler and, later, by admission.
 */
const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};
const QUANTITY = /^([+]?[0-9]+(?:\.[0-9]*)?|[+]?\.[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/;

/** Parses a quantity; returns undefined when the text is not one. Negative quantities are rejected. */
export function parseQuantity(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const m = QUANTITY.exec(value.trim());
  if (!m) return undefined;
  const base = Number(m[1]);
  const scale = m[3] !== undefined ? 10 ** Number(m[3]) : SUFFIX[m[2] ?? ''];
  const out = base * (scale ?? 1);
  return Number.isFinite(out) ? out : undefined;
}

/** True when the text or number is a valid non-negative quantity. */
export function isQuantity(value: string | number): boolean {
  return parseQuantity(value) !== undefined;
}
