import { renderCrds } from '../crds/crd-yaml.ts';
import { parseFlags } from './flags.ts';
import { EXIT, UsageError, type Command } from './io.ts';

export const crdsCommand: Command = {
  name: 'crds',
  summary: 'print the CustomResourceDefinitions (pipe to kubectl apply -f -)',
  flags: {},
  usage: `Usage: tai crds

Prints the CRD YAML of SKU, Tenant and Quota (group tai.dev, version v1alpha1), generated from the same
schemas the governor validates with. Example: tai crds | kubectl apply --server-side -f -`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, this.flags ?? {});
    if (values.help) return (io.out(this.usage), EXIT.ok);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    io.out(renderCrds().trimEnd());
    return EXIT.ok;
  },
};
