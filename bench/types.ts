/** What a benchmark figure is compared against: a design target (design §10), absolute. */
export interface Target {
  op: '<=' | '>=';
  value: number;
  unit: string;
  /** Where the target comes from, e.g. "design §10". */
  source: string;
}

/** A measured figure, always beside a baseline measured in the same run on the same machine. */
export interface Figure {
  scenario: string;
  /** What was measured, e.g. "governor.check" or "full compile". */
  name: string;
  /** Tenants in the policy the figure was measured on. */
  tenants: number;
  value: number;
  unit: string;
  baseline: { name: string; value: number };
  /** value ÷ baseline.value: how many times the irreducible work this costs. */
  ratio: number;
  target?: Target | undefined;
  /** Undefined when the figure has no target. */
  met?: boolean | undefined;
  note?: string | undefined;
  /** The runs the value is the median of, in `unit`. */
  samples?: readonly number[] | undefined;
}

/** Builds a figure, working out the ratio and whether the target is met. */
export function figureOf(f: Omit<Figure, 'ratio' | 'met'>): Figure {
  const ratio = f.baseline.value === 0 ? Number.POSITIVE_INFINITY : f.value / f.baseline.value;
  const met = f.target === undefined ? undefined : f.target.op === '<=' ? f.value <= f.target.value : f.value >= f.target.value;
  return { ...f, ratio, met };
}
