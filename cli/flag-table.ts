// The shape of a command's option table: below both cli/io.ts (a Command carries its table) and cli/flags.ts
// (which parses with io.ts), so neither imports the other for it.

/** One option of a command. */
export interface Flag {
  type: 'string' | 'boolean';
  /** The value's placeholder in --help (`DIR`, `S`); none for a boolean. */
  arg?: string;
  /**
   * What --help says: a line, or lines (each further one indented under the first). Without it, the option
   * shares the next option's help: their labels are listed together, comma-separated.
   */
  help?: string | readonly string[];
}

/** A command's options by name (without the leading --), in --help order. */
export type FlagTable = Readonly<Record<string, Flag>>;
