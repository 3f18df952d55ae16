import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { FlagTable } from './flag-table.ts';

// CommandIO and UsageError live with the server, which cli/ starts and which imports nothing of cli/.
import { UsageError, type CommandIO } from '../server/io.ts';
export { UsageError, type CommandIO };

/** Exit statuses of design §7. */
export const EXIT = { ok: 0, finding: 1, usage: 2 } as const;

/** A command of the `tai` binary. */
export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Its options, declared once (cli/flags.ts): what it parses and what its --help lists. */
  flags?: FlagTable;
  run(argv: string[], io: CommandIO): Promise<number>;
}

/** parseArgs with `--help` on every command and usage errors as UsageError. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
): { values: Record<string, string | boolean | string[] | undefined> & { help?: boolean }; positionals: string[] } {
  try {
    const parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
    return parsed as never;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function stringOption(values: Record<string, unknown>, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
