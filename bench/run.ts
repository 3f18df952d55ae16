/**
 * `npm run bench [-- --quick | --full] [--only NAME]`: the performance figures of design §10,
 * each beside a baseline measured in the same run, as a table while running; results go to bench/results/.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './machine.ts';
import { PRESETS } from './presets.ts';
import { tableHeader, tableRow, writeResults } from './report.ts';
import { admissionHttpScenario } from './scenarios/admission-http.ts';
import { anchorLagScenario } from './scenarios/anchor-lag.ts';
import { dashboardScenario } from './scenarios/dashboard.ts';
import { applyToEnforceScenario } from './scenarios/apply-to-enforce.ts';
import { countersScenario } from './scenarios/counters.ts';
import { decisionHttpScenario } from './scenarios/decision-http.ts';
import { embeddedReloadScenario } from './scenarios/embedded-reload.ts';
import { inProcessScenario } from './scenarios/in-process.ts';
import { peersScenario } from './scenarios/peers.ts';
import { policyReloadScenario } from './scenarios/policy-reload.ts';
import { receiptLogScenario } from './scenarios/receipt-log.ts';
import { restartScenario } from './scenarios/restart.ts';
import { stateSaveScenario } from './scenarios/state-save.ts';
import { tenantScaleScenario } from './scenarios/tenant-scale.ts';
import type { Figure } from './types.ts';

const SCENARIOS = ['in-process', 'tenant-scale', 'receipt-log', 'state-save', 'decision-http', 'admission-http', 'restart', 'embedded-reload', 'policy-reload', 'apply-to-enforce', 'anchor-lag', 'counters', 'dashboard', 'peers'] as const;
const HELP = `usage: npm run bench -- [--quick | --full] [--only NAME]

  --quick      the default: under 10 minutes on 2 cores (1k, 10k, 100k tenants; 7 runs of 200k decisions;
               3 runs of 2–3 s per HTTP load; tai serve restarts on 10k- and 100k-entry logs)
  --full       adds 1 000 000 tenants, 15 runs of 1M decisions, more recompiles, 5 runs of 5 s per HTTP load,
               a 1M-entry log restarted, 2 minutes of anchoring (~25 minutes)
  --only NAME  one scenario: ${SCENARIOS.join(', ')}
Results: bench/results/<date>-<commit>.json and bench/results/latest.md`;

const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, full: { type: 'boolean' }, only: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
if ((values.quick && values.full) || (values.only !== undefined && !(SCENARIOS as readonly string[]).includes(values.only))) {
  console.error(HELP);
  process.exit(2);
}
const preset = values.full ? PRESETS.full : PRESETS.quick;
const wanted = (name: (typeof SCENARIOS)[number]): boolean => values.only === undefined || values.only === name;
const log = (line: string): void => void process.stderr.write(`· ${line}\n`);
const started = Date.now();
// Taken before the run: the commit and tree state that were measured, whatever lands while it runs.
const machine = machineInfo();
const figures: Figure[] = [];
const print = (fs: readonly Figure[]): void => {
  if (figures.length === 0) console.log(tableHeader());
  figures.push(...fs);
  for (const f of fs) console.log(tableRow(f));
};

log(`preset ${preset.name}`);
if (wanted('in-process')) print(inProcessScenario(preset, log));
if (wanted('tenant-scale')) tenantScaleScenario(preset, log, print);
if (wanted('receipt-log')) await receiptLogScenario(preset, log, print);
if (wanted('state-save')) print(await stateSaveScenario(preset, log));
if (wanted('decision-http')) print(await decisionHttpScenario(preset, log));
if (wanted('admission-http')) print(await admissionHttpScenario(preset, log));
if (wanted('restart')) await restartScenario(preset, log, print);
if (wanted('embedded-reload')) print(await embeddedReloadScenario(preset, log));
if (wanted('policy-reload')) print(await policyReloadScenario(preset, log));
if (wanted('apply-to-enforce')) print(await applyToEnforceScenario(preset, log));
if (wanted('anchor-lag')) print(await anchorLagScenario(preset, log));
if (wanted('counters')) print(await countersScenario(preset, log));
if (wanted('dashboard')) print(await dashboardScenario(preset, log));
if (wanted('peers')) print(await peersScenario(preset, log));

const date = new Date().toISOString().slice(0, 10);
const json = writeResults(fileURLToPath(new URL('./results', import.meta.url)), { date, preset: preset.name, machine, figures }, { only: values.only });
const missed = figures.filter((f) => f.met === false);
log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; ${missed.length} target(s) missed; wrote ${json}${values.only === undefined ? ' and bench/results/latest.md' : ''}`);
