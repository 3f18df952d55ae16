// A command's options declared once: parsing and the Options section of its --help both come from the table,
// so the two cannot drift.
import { parseCommandArgs } from './io.ts';

/** One option of a command. */
export interface Flag {
  type: 'string' | 'boolean';
  /** The value's placeholder in --help (`DIR`, `S`); none for a boolean. */
  arg?: string;
  /** What --help says; a '\n' starts a new line, indented under the first. */
  help: string;
}

/** A command's options by name (without the leading --), in --help order. */
export type FlagTable = Readonly<Record<string, Flag>>;

/** Parses argv with the table's options (and --help/-h); a mistake is a UsageError. */
export function parseFlags(argv: string[], table: FlagTable): ReturnType<typeof parseCommandArgs> {
  return parseCommandArgs(argv, Object.fromEntries(Object.entries(table).map(([name, f]) => [name, { type: f.type }])));
}

/**
 * The table as --help lines: `  --NAME ARG` padded to `width` columns, then the help, its further lines
 * indented to the same column. A name too long for the column has its help start on the next line.
 */
export function flagsHelp(table: FlagTable, width: number): string {
  const indent = ' '.repeat(2 + width);
  return Object.entries(table)
    .map(([name, f]) => {
      const label = `--${name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
      const [first, ...rest] = f.help.split('\n');
      const head = label.length + 2 > width ? `  ${label}\n${indent}${first}` : `  ${label.padEnd(width)}${first}`;
      return [head, ...rest.map((line) => `${indent}${line}`)].join('\n');
    })
    .join('\n');
}
