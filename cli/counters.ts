// `tai counters rebuild`: folds replicas' logs into shared counters by hand (design §12). Replicas restore lost
// counters by themselves (counters/counters-epoch.ts); this is for a replica that will not come back to fold its
// own log in, or a store emptied while every replica was down.
import { connectStore, rebuildFromLogs } from '../counters/index.ts';
import { verifyLog } from '../receipts/index.ts';
import { LogReplay } from '../recording/log-replay.ts';
import { flagsHelp, parseFlags, type FlagTable } from './flags.ts';
import { EXIT, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { defectLine } from './log-subcommand.ts';
import { logReader, verifierKeyFrom } from './log-source.ts';

const COUNTERS_FLAGS = {
  counters: { type: 'string', arg: 'URL', help: 'the shared store: redis://HOST:PORT[/DB] or rediss://… (required)' },
  'counters-password-file': { type: 'string', arg: 'PATH', help: "a file holding the store's AUTH password" },
  'counters-ca-file': { type: 'string', arg: 'PATH', help: 'PEM CA bundle for rediss://' },
  vkey: { type: 'string', arg: 'KEY|FILE', help: 'the verifier key to pin, for every log (default for a folder: signing.key.pub beside it)' },
} as const satisfies FlagTable;

export const countersCommand: Command = {
  name: 'counters',
  summary: 'fold replicas’ receipt logs into the shared counters (after Redis lost its data)',
  flags: COUNTERS_FLAGS,
  usage: `Usage: tai counters rebuild LOG [LOG…] --counters redis://HOST:PORT [--counters-password-file PATH]
                             [--counters-ca-file PATH] [--vkey KEY|FILE]

rebuild   verifies each LOG (a folder, an http(s) URL or gs://BUCKET/PREFIX/ORIGIN, as tai log verify) and folds
          its usage into the shared counters: for each counter, the count its last allowed consume saw, keeping
          the larger count of a window. Replicas do this for their own logs when the store loses its data, and
          deny hard quotas until every replica they saw alive has; run it for a replica that will not come back,
          or after a loss while every replica was down. Prints the epoch and what the restore still waits for.
Exit status: 0 folded and counting, 1 a log failed verification or the restore still waits, 2 a usage error.
Options:
${flagsHelp(COUNTERS_FLAGS, 28)}`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, COUNTERS_FLAGS);
    if (values.help) return (io.out(this.usage), EXIT.ok);
    const [sub, ...logs] = positionals;
    if (sub !== 'rebuild') throw new UsageError('expected: tai counters rebuild LOG [LOG…] --counters redis://HOST:PORT');
    if (logs.length === 0) throw new UsageError('rebuild: name at least one LOG');
    const url = stringOption(values, 'counters');
    if (url === undefined) throw new UsageError('--counters redis://HOST:PORT is required');
    const views = await readViews(logs, stringOption(values, 'vkey'), io);
    if (views === undefined) return EXIT.finding;
    const client = await connectStore({ url, passwordFile: stringOption(values, 'counters-password-file'), caFile: stringOption(values, 'counters-ca-file'), timeoutMs: 5000 });
    try {
      const rebuilt = await rebuildFromLogs(client, views);
      if (rebuilt.ready) io.out(`tai counters: folded ${views.length} log(s) into epoch ${rebuilt.epoch}; the counters are whole and counting`);
      else io.err(`tai counters: folded ${views.length} log(s) into epoch ${rebuilt.epoch}; the restore still waits for ${rebuilt.waitingFor.join(', ')} (rebuild with their logs)`);
      return rebuilt.ready ? EXIT.ok : EXIT.finding;
    } finally {
      client.destroy();
    }
  },
};

type View = { origin: string; cells: ReturnType<LogReplay['state']>['cells'] };

/** Each log verified and replayed into its view of usage; undefined (the defects printed) if one fails. */
async function readViews(logs: readonly string[], vkey: string | undefined, io: CommandIO): Promise<View[] | undefined> {
  const views: View[] = [];
  for (const location of logs) {
    const replay = new LogReplay(undefined, { answers: false });
    const result = await verifyLog({ read: logReader(location), verifierKey: await verifierKeyFrom(vkey, location), onEntry: (e) => replay.add(e) });
    if (!result.ok || result.checkpoint === undefined) {
      for (const d of result.defects) io.err(`${location}: ${defectLine(d)}`);
      return undefined;
    }
    const { cells } = replay.state();
    views.push({ origin: result.checkpoint.origin, cells });
    io.out(`${location}: ${result.checkpoint.origin}, ${result.entries} entries verified, ${cells.length} counters`);
  }
  return views;
}
