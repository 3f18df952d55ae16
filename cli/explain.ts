import { formatPolicyError, loadManifestSet } from '../crds/index.ts';
import { explainTenant, PolicyCompiler, type TenantExplanation } from '../governor/index.ts';
import { EXIT, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { flagsHelp, parseFlags, type FlagTable } from './flags.ts';
import { readManifestFiles } from '../server/index.ts';

/** explain's options, in --help order. */
const EXPLAIN_FLAGS = {
  from: { type: 'string', arg: 'DIR', help: 'folder (or file) of SKU, Tenant and Quota YAML (required)' },
  json: { type: 'boolean', help: 'print the explanation as JSON' },
} as const satisfies FlagTable;

export const explainCommand: Command = {
  name: 'explain',
  summary: 'show a tenant’s effective entitlements and where each value came from',
  flags: EXPLAIN_FLAGS,
  usage: `Usage: tai explain tenant NAME --from DIR [--json]

Compiles the resources under DIR and prints every feature, quota, rate and resource cap of tenant NAME
with its provenance, e.g.
  api-calls limit 7000000 = SKU/growth 1000000, Tenant/acme overrides 2000000, Quota/acme-black-friday +5000000
Options:
${flagsHelp(EXPLAIN_FLAGS, 13)}`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, EXPLAIN_FLAGS);
    if (values.help) return (io.out(this.usage), EXIT.ok);
    const [what, name] = positionals;
    const from = stringOption(values, 'from');
    if (what !== 'tenant' || !name || positionals.length !== 2) throw new UsageError('expected: tai explain tenant NAME --from DIR');
    if (!from) throw new UsageError('--from DIR is required');
    const load = loadManifestSet(await readManifestFiles([from]));
    for (const e of load.errors) io.err(formatPolicyError(e));
    const snapshot = new PolicyCompiler().apply({ upsert: [...load.resources.values()].map((r) => r.resource) }, Date.now());
    const status = snapshot.statuses.get(`Tenant/${name}`);
    const tenant = snapshot.tenants.get(name);
    if (!tenant) {
      io.err(status ? `Tenant/${name}: ${status.reason}: ${status.message}` : `tenant "${name}" is not defined under ${from}`);
      return EXIT.finding;
    }
    const explanation = explainTenant(tenant);
    if (values.json) io.out(JSON.stringify(explanation, null, 2));
    else printExplanation(explanation, io);
    return EXIT.ok;
  },
};

function printExplanation(e: TenantExplanation, io: CommandIO): void {
  io.out(`Tenant ${e.tenant} — SKU ${e.sku}${e.suspended ? ' — SUSPENDED' : ''}`);
  io.out(`policy digest ${e.digest}`);
  const section = (title: string, entries: Record<string, { explain: string }>, extra?: (k: string) => string): void => {
    if (Object.keys(entries).length === 0) return;
    io.out(`\n${title}`);
    for (const [k, v] of Object.entries(entries)) io.out(`  ${v.explain}${extra ? extra(k) : ''}`);
  };
  section('Features', e.features);
  section('Quotas', e.quotas, (k) => {
    const p = e.quotas[k]!.policy;
    return p.kind === 'gauge' ? `  (gauge, ${p.enforcement})` : `  (per ${p.window}, ${p.reset}, ${p.enforcement}, alerts at ${p.alertAt.join('/')} %)`;
  });
  section('Rates', e.rates, (k) => `  (burst ${e.rates[k]!.burst})`);
  section('Resources', e.resources);
}
