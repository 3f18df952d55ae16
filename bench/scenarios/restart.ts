/**
 * Restart time against log size (design §10: "restart with 1 000 000 entries in the log: serving again in ≤ 5 s"),
 * with the real process: a `tai serve --from config/samples` fills a log of N decisions through POST /v1/batch,
 * then fresh `tai serve` processes start on it and are timed from spawn to the first 200 from GET /readyz:
 * - clean restart: state.json written at the last SIGTERM, so nothing is replayed (the common case);
 * - crash restart: the last process was SIGKILLed with state.json CRASH_LAG entries behind the log;
 * - cold replay: state.json removed, every entry replayed (informational: what the state file saves).
 * Baseline: the same `tai serve` starting on an empty log (process, module load, policy load), in the same runs.
 * Every restarted server is checked: its "N entries (M replayed)" line, acme's usage and the fill's last
 * idempotent answer.
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinning } from '../cpu-pin.ts';
import { median } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';
import { checkRebuilt, fill, killLeftovers, SERVER_CORE, startServer, stateFile, stopServer, type FillLedger, type StartedServer, type Workdir } from './restart-server.ts';

type Log = (line: string) => void;
type Kind = 'clean' | 'crash' | 'cold';

const SAMPLES = fileURLToPath(new URL('../../config/samples', import.meta.url));
/**
 * How far state.json lags the log at a crash, at worst: the server saves it once --state-every (10 000) entries
 * are durable, checked each second, so up to 10 000 plus a second of decisions (~10 000/s) go unsaved.
 */
const CRASH_LAG = 20_000;
const KINDS: readonly Kind[] = ['clean', 'crash', 'cold'];

/** Log sizes and timed runs per size. */
function plan(preset: Preset): { sizes: number[]; runs: (n: number) => number } {
  return preset.name === 'full' ? { sizes: [10_000, 100_000, 1_000_000], runs: (n) => (n >= 1_000_000 ? 3 : 5) } : { sizes: [10_000, 100_000], runs: () => 3 };
}

/** The log of one size: `clean` holds the log stopped cleanly, `crashImage` the same log as a SIGKILL left it. */
interface FilledLog {
  n: number;
  lag: number;
  clean: string;
  crashImage: string;
  ledger: FillLedger;
}

/**
 * Fills N decisions: N − lag with a server stopped by SIGTERM (state.json at that size), then `lag` more with a
 * server that never saves state (--state-every 10⁹) and sync durability (all answered entries on disk), SIGKILLed.
 * That directory, copied, is the crash image; restarting it once and stopping cleanly makes the clean log.
 */
async function fillLog(w: Workdir, n: number, log: Log): Promise<FilledLog> {
  const lag = Math.min(CRASH_LAG, n / 2);
  const dir = join(w.root, `log-${n}`);
  const ledger: FillLedger = { consumed: 0, decisions: 0 };
  const started = performance.now();
  const first = await startServer(w, dir);
  await fill(first.url, { from: 0, count: n - lag }, ledger);
  await stopServer(first, 'SIGTERM');
  const second = await startServer(w, dir, ['--durability', 'sync', '--state-every', String(1e9)]);
  await fill(second.url, { from: n - lag, count: lag }, ledger);
  await stopServer(second, 'SIGKILL');
  const seconds = (performance.now() - started) / 1000;
  log(`restart: filled ${n} decisions in ${seconds.toFixed(1)} s (${Math.round(n / seconds)} decisions/s through POST /v1/batch)`);
  const crashImage = join(w.root, `crash-image-${n}`);
  await cp(dir, crashImage, { recursive: true });
  const recovered = await startServer(w, dir);
  await checkRebuilt(recovered.url, ledger);
  await stopServer(recovered, 'SIGTERM');
  return { n, lag, clean: dir, crashImage, ledger };
}

/** Why a restart of `kind` did not replay what it should have, if it did not. */
function replayDefect(kind: Kind, s: StartedServer, f: FilledLog): string | undefined {
  if (s.entries < f.n) return `the log holds ${s.entries} entries, want ≥ ${f.n}`;
  if (kind !== 'cold' && s.stale) return 'state.json was stale';
  if (kind === 'clean' && s.replayed > 10) return `replayed ${s.replayed} entries after a clean stop`;
  if (kind === 'crash' && (s.replayed < f.lag || s.replayed > f.lag + 100)) return `replayed ${s.replayed} entries, want ~${f.lag}`;
  if (kind === 'cold' && s.replayed !== s.entries) return `replayed ${s.replayed} of ${s.entries} entries`;
  return undefined;
}

interface Sample {
  readyMs: number;
  lineMs: number;
  entries: number;
  replayed: number;
}

/** The log directory a `kind` restart starts on: the clean log (without state.json for cold) or a crash image copy. */
async function prepare(kind: Kind, f: FilledLog, w: Workdir): Promise<string> {
  if (kind === 'clean') return f.clean;
  if (kind === 'cold') {
    await rm(stateFile(f.clean));
    return f.clean;
  }
  const dir = join(w.root, `crash-run-${f.n}`);
  await rm(dir, { recursive: true, force: true });
  await cp(f.crashImage, dir, { recursive: true });
  return dir;
}

/** One timed restart of `kind`, checked, then stopped cleanly (which writes state.json back for the next). */
async function restartRun(kind: Kind, f: FilledLog, w: Workdir): Promise<Sample> {
  const dir = await prepare(kind, f, w);
  const s = await startServer(w, dir);
  try {
    const defect = replayDefect(kind, s, f);
    if (defect) throw new Error(`restart (${kind}, ${f.n} entries): ${defect}`);
    await checkRebuilt(s.url, f.ledger);
  } finally {
    await stopServer(s, 'SIGTERM');
  }
  if (kind === 'crash') await rm(dir, { recursive: true });
  return { readyMs: s.readyMs, lineMs: s.lineMs, entries: s.entries, replayed: s.replayed };
}

/** The fixed cost: `tai serve` on a fresh, empty log. */
async function baselineRun(w: Workdir, run: number): Promise<Sample> {
  const dir = join(w.root, `empty-${run}`);
  const s = await startServer(w, dir);
  await stopServer(s, 'SIGTERM');
  await rm(dir, { recursive: true });
  return { readyMs: s.readyMs, lineMs: s.lineMs, entries: s.entries, replayed: s.replayed };
}

const seconds = (ms: number): number => Math.round(ms) / 1000;

const WHAT: Record<Kind, (f: FilledLog) => string> = {
  clean: () => 'state.json written at the last SIGTERM',
  crash: (f) =>
    `last process SIGKILLed with state.json ${f.lag.toLocaleString('en-US')} entries behind (${f.lag === CRASH_LAG ? '--state-every 10 000 plus ~1 s of decisions at ~10 000/s: the worst a crash leaves' : 'half the log: it is shorter than the worst lag'}); the tail written with sync durability, so no torn write`,
  cold: () => 'state.json removed: every entry replayed and checked (informational: the cost the state file saves)',
};

function figureFor(kind: Kind, f: FilledLog, samples: Sample[], baseline: Sample[]): Figure {
  const value = seconds(median(samples.map((s) => s.readyMs)));
  const line = seconds(median(samples.map((s) => s.lineMs)));
  const last = samples.at(-1)!;
  const full = f.n >= 1_000_000 && kind !== 'cold';
  return figureOf({
    scenario: 'restart',
    name: `${kind} restart, ${f.n.toLocaleString('en-US')} entries: spawn to /readyz 200`,
    tenants: 6,
    value,
    unit: 's',
    baseline: { name: 'tai serve on an empty log (process + modules + policy)', value: seconds(median(baseline.map((s) => s.readyMs))) },
    target: full ? { op: '<=', value: 5, unit: 's', source: 'design §10: restart with 1 000 000 entries: serving again in ≤ 5 s' } : undefined,
    samples: samples.map((s) => seconds(s.readyMs)),
    note: `${WHAT[kind](f)}; ${last.entries} entries, ${last.replayed} replayed; "serving decisions" line at ${line} s; median of ${samples.length} runs, page cache warm; ${pinning(SERVER_CORE)}; usage and idempotent answers checked after each`,
  });
}

async function sizeFigures(w: Workdir, n: number, runs: number, log: Log): Promise<Figure[]> {
  const f = await fillLog(w, n, log);
  log(`restart: ${n} entries: baseline, clean, crash and cold restarts × ${runs} runs (load average ${loadavg()[0]!.toFixed(1)})`);
  const baseline: Sample[] = [];
  const samples: Record<Kind, Sample[]> = { clean: [], crash: [], cold: [] };
  for (let r = 0; r < runs; r++) {
    baseline.push(await baselineRun(w, r));
    for (const kind of KINDS) samples[kind].push(await restartRun(kind, f, w));
  }
  await rm(f.clean, { recursive: true });
  await rm(f.crashImage, { recursive: true });
  return KINDS.map((kind) => figureFor(kind, f, samples[kind], baseline));
}

/** All restart figures, printed as each log size is measured. */
export async function restartScenario(preset: Preset, log: Log, print: (fs: readonly Figure[]) => void): Promise<void> {
  const { sizes, runs } = plan(preset);
  const root = await mkdtemp(join(tmpdir(), 'tai-bench-restart-'));
  const w: Workdir = { root, policy: join(root, 'policy'), key: join(root, 'signing.key') };
  try {
    await mkdir(w.policy);
    await cp(SAMPLES, w.policy, { recursive: true });
    for (const n of sizes) print(await sizeFigures(w, n, runs(n), log));
  } finally {
    await killLeftovers();
    await rm(root, { recursive: true, force: true });
  }
}
