import { mkdirSync, writeFileSync } from 'node:fs';
import type { MachineInfo } from './machine.ts';
import type { Figure } from './types.ts';

export interface BenchResult {
  date: string;
  preset: string;
  machine: MachineInfo;
  figures: Figure[];
}

const COLUMNS = ['scenario', 'tenants', 'figure', 'value', 'baseline', 'ratio', 'target', 'met'] as const;
const WIDTHS = [12, 9, 52, 14, 14, 9, 14, 4];

/** A value in its unit, with the precision that unit deserves. */
export function formatValue(value: number, unit: string): string {
  if (unit === 'ns/op') return `${value.toFixed(1)} ns/op`;
  if (unit === 'ms') return `${value < 10 ? value.toFixed(3) : value.toFixed(1)} ms`;
  if (unit === 'B/tenant') return `${Math.round(value)} B`;
  return `${value} ${unit}`;
}

function cells(f: Figure): string[] {
  return [
    f.scenario,
    f.tenants.toLocaleString('en-US'),
    f.name,
    formatValue(f.value, f.unit),
    formatValue(f.baseline.value, f.unit),
    `${f.ratio.toFixed(1)}×`,
    f.target ? `${f.target.op} ${formatValue(f.target.value, f.target.unit)}` : '—',
    f.met === undefined ? '' : f.met ? 'yes' : 'NO',
  ];
}

const line = (row: readonly string[]): string => row.map((c, i) => c.padEnd(WIDTHS[i]!)).join(' ').trimEnd();

/** The console table header (printed once, before the first figure). */
export const tableHeader = (): string => `${line(COLUMNS)}\n${line(WIDTHS.map((w) => '-'.repeat(w)))}`;
export const tableRow = (f: Figure): string => line(cells(f));

export function markdown(r: BenchResult): string {
  const m = r.machine;
  const rows = r.figures.map((f) => `| ${cells(f).join(' | ')} |`);
  const notes = r.figures.map((f) => `- ${f.scenario} ${f.tenants} · ${f.name}: ${[f.note, spread(f), `baseline: ${f.baseline.name}`].filter(Boolean).join('; ')}`);
  return [
    `# Benchmark results — ${r.date} (${r.preset})`,
    '',
    `Commit ${m.commit}${m.dirty ? ' (working tree had uncommitted changes)' : ''} · Node ${m.node} (V8 ${m.v8}) · ${m.cpus} × ${m.cpuModel} · ${m.memoryGiB} GiB · ${m.platform}`,
    '',
    'Ratio = figure ÷ baseline, both measured in this run. For one-change recompiles the baseline is building the whole',
    'N-entry Map, so a ratio that stays constant as N grows means the change costs O(N).',
    'Reproduce: `npm run bench` (or `npm run bench -- --full`). Method and analysis: docs/performance.md.',
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `|${COLUMNS.map(() => '---').join('|')}|`,
    ...rows,
    '',
    '## Notes',
    '',
    ...notes,
    '',
  ].join('\n');
}

/** "runs 21, min 0.8 – max 3.5 ms" for a figure with samples. */
function spread(f: Figure): string | undefined {
  if (!f.samples || f.samples.length < 2) return undefined;
  return `runs ${f.samples.length}, min ${formatValue(Math.min(...f.samples), f.unit)} – max ${formatValue(Math.max(...f.samples), f.unit)}`;
}

/**
 * Writes `<dir>/<date>-<commit>.json` (`-full` for the full preset; `-<scenario>` for a run of one, so runs of
 * different scenarios on one commit keep their own files) and, for a whole run, `<dir>/latest.md`. Returns the
 * JSON path.
 */
export function writeResults(dir: string, r: BenchResult, o: { only: string | undefined }): string {
  mkdirSync(dir, { recursive: true });
  const suffix = [r.preset === 'full' ? '-full' : '', o.only === undefined ? '' : `-${o.only}`].join('');
  const json = `${dir}/${r.date}-${r.machine.commit}${suffix}.json`;
  writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
  if (o.only === undefined) writeFileSync(`${dir}/latest.md`, markdown(r));
  return json;
}
