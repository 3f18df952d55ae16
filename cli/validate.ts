import { formatPolicyError, loadManifestSet, type PolicyError } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { parseFlags } from './flags.ts';
import { EXIT, UsageError, type Command } from './io.ts';
import { readManifestFiles, statusError } from '../server/index.ts';
import { checkEntitlementsReceipt } from '../recording/reconcile-size.ts';

/** Loads and compiles files offline; returns every problem with file, line and field path. */
export async function validatePaths(paths: readonly string[], now: number): Promise<{ errors: PolicyError[]; counts: Record<string, number> }> {
  const load = loadManifestSet(await readManifestFiles(paths));
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  const snapshot = compiler.apply({ upsert: [...load.resources.values()].map((r) => r.resource) }, now);
  const errors = [...load.errors];
  for (const [key, status] of snapshot.statuses) {
    if (status.ready) continue;
    errors.push(statusError(key, status, load.resources.get(key)));
  }
  const counts = { SKU: 0, Tenant: 0, Quota: 0 };
  for (const r of load.resources.values()) counts[r.resource.kind]++;
  return { errors, counts };
}

export const validateCommand: Command = {
  name: 'validate',
  summary: 'lint SKU, Tenant and Quota YAML offline with the governor’s own compiler',
  flags: {}, // it takes PATHs only
  usage: `Usage: tai validate PATH...

Loads every .yaml/.yml/.json file under each PATH (kustomization.yaml is skipped), checks each resource
against the TAI schemas and compiles the set: unknown SKUs, inheritance cycles, bad overrides, quotas for
unknown metrics. Prints one line per problem as FILE:LINE: FIELD: MESSAGE.
Exit status: 0 valid, 1 problems found, 2 usage error. Use it as a GitOps pre-merge check.`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, this.flags ?? {});
    if (values.help) return (io.out(this.usage), EXIT.ok);
    if (positionals.length === 0) throw new UsageError('validate needs at least one PATH');
    const { errors, counts } = await validatePaths(positionals, Date.now());
    for (const e of errors) io.err(formatPolicyError(e));
    const summary = `${counts.SKU} SKUs, ${counts.Tenant} tenants, ${counts.Quota} quotas`;
    if (errors.length > 0) return (io.err(`✗ ${errors.length} problem${errors.length > 1 ? 's' : ''} in ${summary}`), EXIT.finding);
    io.out(`✓ ${summary}: valid`);
    return EXIT.ok;
  },
};
