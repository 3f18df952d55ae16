// `tai log keygen`: a checkpoint signing key made before the first start, for a Kubernetes or Secret Manager
// secret that every restart of the same log mounts (config/manager, config/cloudrun, docs/deploy.md).
import { NoteError } from '../receipts/index.ts';
import { createSigningKey } from '../receipts/store/index.ts';
import { EXIT, UsageError, stringOption } from './io.ts';
import { LogFinding, type LogSubcommand } from './log-subcommand.ts';

export const keygenCommand: LogSubcommand = {
  flags: ['out'],
  args: ['NAME'],
  async run({ args, values, io }) {
    const name = args[0]!;
    const out = stringOption(values, 'out');
    if (out === undefined) throw new UsageError('tai log keygen NAME needs --out FILE: the signer key is a secret, it is never printed');
    try {
      const key = await createSigningKey({ path: out, name });
      io.out(`made signing key ${out} (mode 0600) and its verifier key ${out}.pub`);
      io.out(`verifier key (what auditors pin): ${key.verifierKey}`);
      return EXIT.ok;
    } catch (e) {
      if (e instanceof NoteError) throw new UsageError(`NAME: ${e.message}`);
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new LogFinding(`${out} exists: refusing to replace a signing key (every checkpoint it signed would lose its verifier); pick another --out`);
      throw e;
    }
  },
};
