#!/usr/bin/env node
// The `tai` command (design §7). Exit status: 0 success, 1 a finding, 2 a usage error.
import { pathToFileURL } from 'node:url';
import { auditCommand } from './audit/index.ts';
import { explainCommand } from './explain.ts';
import { countersCommand } from './counters.ts';
import { crdsCommand } from './crds.ts';
import { logCommand } from './log-command.ts';
import { EXIT, UsageError, type Command, type CommandIO } from './io.ts';
import { EntryFileRefusal } from '../receipts/store/entry-audit.ts';
import { serveCommand } from './serve.ts';
import { validateCommand } from './validate.ts';

export const COMMANDS: readonly Command[] = [serveCommand, validateCommand, explainCommand, crdsCommand, logCommand, auditCommand, countersCommand];

const HELP = `tai — a Kubernetes-native entitlement governor

Usage: tai COMMAND [OPTIONS]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Run 'tai COMMAND --help' for a command's options.`;

/** Runs the command line; returns the exit status. */
export async function main(argv: string[], io: CommandIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') return (io.out(HELP), name ? EXIT.ok : EXIT.usage);
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) return (io.err(`tai: unknown command ${JSON.stringify(name)}\n\n${HELP}`), EXIT.usage);
  try {
    return await command.run(rest, io);
  } catch (e) {
    return reportFailure(e, { command, io });
  }
}

const PATH_ERRORS = new Set(['ENOENT', 'EACCES', 'ENOTDIR', 'EISDIR']);

/** Usage mistakes and unreadable paths are exit 2 with a one-line message; anything else is a bug. */
function reportFailure(e: unknown, c: { command: Command; io: CommandIO }): number {
  if (e instanceof UsageError) return (c.io.err(`tai ${c.command.name}: ${e.message}\n\n${c.command.usage}`), EXIT.usage);
  if (PATH_ERRORS.has(String((e as NodeJS.ErrnoException).code))) return (c.io.err(`tai ${c.command.name}: ${(e as Error).message}`), EXIT.usage);
  if (e instanceof EntryFileRefusal) return (c.io.err(`tai ${c.command.name}: refusing to start: ${e.message}`), EXIT.finding);
  throw e;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href || process.argv[1]?.endsWith('/tai')) {
  const io: CommandIO = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  process.exitCode = await main(process.argv.slice(2), io);
}
