/**
 * Profiles a scenario with Clinic.js (flame, or bubbleprof for the HTTP ones) and writes its HTML report, then
 * prints the report's path and the top frames of the flame samples.
 *
 *   npm run profile -- http-consume [--tool flame|bubbleprof] [--out DIR] [--durability sync|async]
 *   npm run profile -- consume [--tenants N] [--changes K]
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { collect, TOOLS, visualize, type ClinicTool, type Collection } from './clinic.ts';
import { drive, type HttpLoad, type LoadResult } from './profile-load.ts';
import { flameProfile, printTopFrames, type TickSelection } from './profile-print.ts';

const ROOT = resolve(import.meta.dirname, '..');

interface PhaseScenario {
  kind: 'phase';
  /** Defaults for bench/profile.ts: enough changes that the phase, not building the population, fills the profile. */
  tenants: number;
  changes: number;
}
type Scenario = ({ kind: 'http' } & Omit<HttpLoad, 'port' | 'seconds' | 'connections'>) | PhaseScenario;

const SCENARIOS: Record<string, Scenario> = {
  'http-check': { kind: 'http', path: '/v1/check', body: { tenant: 'acme', feature: 'max-projects' } },
  'http-consume': { kind: 'http', path: '/v1/consume', body: { tenant: 'acme', metric: 'api-calls', amount: 1 } },
  compile: { kind: 'phase', tenants: 100_000, changes: 1 },
  'change-tenant': { kind: 'phase', tenants: 100_000, changes: 20_000 },
  'change-selected-tenant': { kind: 'phase', tenants: 100_000, changes: 10_000 },
  'change-sku': { kind: 'phase', tenants: 100_000, changes: 2_000 },
  consume: { kind: 'phase', tenants: 10_000, changes: 10_000_000 },
};

const USAGE = `Usage: npm run profile -- SCENARIO [--tool flame|bubbleprof] [--out DIR] [options]

Runs SCENARIO under Clinic.js and writes DIR/SCENARIO-TOOL.html (default DIR: bench/profiles), then prints
the top frames (flame). Open the HTML in a browser.

Scenarios:
  http-check, http-consume   a real \`tai serve --from config/samples\` (embedded mode) loaded by autocannon with
                             POST /v1/check {tenant: acme, feature: max-projects} or POST /v1/consume
                             {tenant: acme, metric: api-calls, amount: 1}; flame or bubbleprof
  ${Object.keys(SCENARIOS).filter((s) => SCENARIOS[s]!.kind === 'phase').join(', ')}
                             a phase of bench/profile.ts in-process (flame only); top frames are the phase's

Options:
  --tool TOOL         flame (default) or bubbleprof (async activity; http-* only)
  --out DIR           where the HTML goes (default bench/profiles)
  --durability MODE   http-*: sync (default, answer after the receipt is on disk) or async
  --duration S        http-*: seconds of load (default 10 for flame, 3 for bubbleprof, whose data grows fast)
  --connections N     http-*: autocannon connections (default 50)
  --tenants N         phases: population size (default per phase: 100000, consume 10000)
  --changes K         phases: changes, or consume calls (default per phase, a few seconds' worth)
  --keep              keep the tool's data folder (for flame, node bench/flame-ticks.ts reads its -samples file)
  --help              this text`;

interface RunOptions {
  scenario: string;
  tool: ClinicTool;
  out: string;
  values: Record<string, string | boolean | undefined>;
}

function usageError(message: string): never {
  console.error(`profile: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parse(): RunOptions {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tool: { type: 'string', default: 'flame' },
      out: { type: 'string', default: join(ROOT, 'bench/profiles') },
      durability: { type: 'string', default: 'sync' },
      duration: { type: 'string' },
      connections: { type: 'string', default: '50' },
      tenants: { type: 'string' },
      changes: { type: 'string' },
      keep: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const [scenario, ...extra] = positionals;
  if (scenario === undefined || !Object.hasOwn(SCENARIOS, scenario) || extra.length > 0) usageError(`expected one scenario of ${Object.keys(SCENARIOS).join(', ')}; got ${JSON.stringify(positionals.join(' '))}`);
  const tool = values.tool as ClinicTool;
  if (!TOOLS.includes(tool)) usageError(`--tool: expected ${TOOLS.join(' or ')}, got ${JSON.stringify(values.tool)}`);
  if (tool === 'bubbleprof' && SCENARIOS[scenario]!.kind === 'phase') usageError(`${scenario} is synchronous work; bubbleprof shows async activity: use --tool flame`);
  if (values.durability !== 'sync' && values.durability !== 'async') usageError(`--durability: expected sync or async, got ${JSON.stringify(values.durability)}`);
  return { scenario, tool, out: resolve(values.out), values };
}

/** A collection, the load that ran (http-*), and which of its ticks to list. */
interface Profiled {
  c: Collection;
  load?: LoadResult;
  ticks: TickSelection;
}

function count(values: RunOptions['values'], name: string, fallback: number): number {
  const text = values[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) usageError(`--${name}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

/** `tai serve` under the tool; autocannon drives it once it listens, then the tool stops it. */
async function profileHttp(o: RunOptions, s: Extract<Scenario, { kind: 'http' }>, work: string): Promise<Profiled> {
  const seconds = count(o.values, 'duration', o.tool === 'flame' ? 10 : 3);
  const connections = count(o.values, 'connections', 50);
  const serve = ['serve', '--from', join(ROOT, 'config/samples'), '--listen', '127.0.0.1:0', '--log', join(work, 'log'), '--key', join(work, 'key'), '--durability', String(o.values.durability)];
  let load: LoadResult | undefined;
  const started = performance.now();
  const during = { fromMs: 0, toMs: 0 };
  const c = await collect(o.tool, [process.execPath, join(ROOT, 'cli/tai.ts'), ...serve], join(work, 'data'), (port, stop) => {
    console.log(`profile: ${o.tool}: POST ${s.path} from ${connections} connections for ${seconds} s (durability ${o.values.durability})`);
    during.fromMs = performance.now() - started;
    void drive({ ...s, port, seconds, connections })
      .then(
        (r) => (load = r),
        (e: unknown) => console.error(`profile: the load failed: ${String(e)}`),
      )
      .finally(() => {
        during.toMs = performance.now() - started;
        stop();
      });
  });
  return { c, load, ticks: during };
}

async function profilePhase(o: RunOptions, s: PhaseScenario, work: string): Promise<Profiled> {
  const tenants = count(o.values, 'tenants', s.tenants);
  const changes = count(o.values, 'changes', s.changes);
  console.log(`profile: flame: bench/profile.ts --phase ${o.scenario} --tenants ${tenants} --changes ${changes}`);
  const argv = [process.execPath, join(ROOT, 'bench/profile.ts'), '--phase', o.scenario, '--tenants', String(tenants), '--changes', String(changes), '--no-inspector'];
  return { c: await collect('flame', argv, join(work, 'data')), ticks: { phase: true } };
}

async function main(): Promise<void> {
  const o = parse();
  const s = SCENARIOS[o.scenario]!;
  const work = await mkdtemp(join(tmpdir(), 'tai-profile-'));
  const cwd = process.cwd();
  try {
    // Both tools leave scratch files (V8 logs, trace-event logs) in the current directory.
    process.chdir(work);
    const { c, load, ticks } = s.kind === 'http' ? await profileHttp(o, s, work) : await profilePhase(o, s, work);
    process.chdir(cwd);
    if (s.kind === 'http' && !load) process.exitCode = 1;
    await mkdir(o.out, { recursive: true });
    const html = join(o.out, `${o.scenario}-${o.tool}.html`);
    console.log(`profile: analysing ${c.tool} data…`);
    await visualize(c, html);
    console.log(`profile: ${relative(cwd, html) || html} (${((await stat(html)).size / 1e6).toFixed(1)} MB)`);
    if (c.tool === 'flame') printTopFrames(flameProfile(join(c.dir, `${basename(c.dir)}-samples`), c.wallMs, ticks), load);
    else if (load) console.log(`${load.summary}\nbubbleprof: open the HTML for where requests wait (no CPU samples to list)`);
  } finally {
    process.chdir(cwd);
    if (o.values.keep) console.log(`profile: data kept in ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}

await main();
