/** How much work a run does. `quick` fits in ~3 minutes on 2 cores; `full` is for the numbers we publish. */
export interface Preset {
  name: 'quick' | 'full';
  /** Decisions per timed run (in-process scenario). */
  decisionOps: number;
  /** Timed runs per decision figure; the median is reported. */
  decisionRuns: number;
  /** Untimed runs before timing, so the code is optimised. */
  warmupRuns: number;
  /** Tenant counts for the tenant-scale scenario. */
  tenantCounts: readonly number[];
  /** Full compiles timed per tenant count (each from a fresh compiler). */
  compileRuns: (tenants: number) => number;
  /** One-change recompiles timed per kind of change. */
  changeRuns: number;
}

export const PRESETS: Record<Preset['name'], Preset> = {
  quick: {
    name: 'quick',
    decisionOps: 200_000,
    decisionRuns: 7,
    warmupRuns: 2,
    tenantCounts: [1_000, 10_000, 100_000],
    compileRuns: (n) => (n <= 10_000 ? 5 : 3),
    changeRuns: 21,
  },
  full: {
    name: 'full',
    decisionOps: 1_000_000,
    decisionRuns: 15,
    warmupRuns: 3,
    tenantCounts: [1_000, 10_000, 100_000, 1_000_000],
    compileRuns: (n) => (n <= 10_000 ? 9 : n <= 100_000 ? 3 : 1),
    changeRuns: 101,
  },
};
