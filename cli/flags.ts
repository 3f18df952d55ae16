// A command's options declared once: parsing and the Options section of its --help both come from the table,
// so the two cannot drift.
import type { Flag, FlagTable } from './flag-table.ts';
import { parseCommandArgs } from './io.ts';

export type { Flag, FlagTable };

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
  const lines: string[] = [];
  let labels: string[] = [];
  for (const [name, f] of Object.entries(table)) {
    labels.push(flagLabel(name, f));
    if (f.help === undefined) continue;
    const label = labels.join(', ');
    labels = [];
    const [first, ...rest] = typeof f.help === 'string' ? [f.help] : f.help;
    lines.push(label.length + 1 > width ? `  ${label}\n${indent}${first}` : `  ${label.padEnd(width)}${first}`, ...rest.map((line) => `${indent}${line}`));
  }
  if (labels.length > 0) throw new Error(`${labels.join(', ')}: no help follows`);
  return lines.join('\n');
}

/** `--NAME ARG`, as --help shows an option. */
export function flagLabel(name: string, f: Flag): string {
  return `--${name}${f.arg === undefined ? '' : ` ${f.arg}`}`;
}
