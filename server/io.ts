// What the server shares with the commands that start it: where it writes, and the error for a mistake in how it
// was called (printed with the command's usage, exit 2). cli/io.ts re-exports both, so `instanceof UsageError`
// holds whichever side threw it.

/** Where a command writes; tests pass buffers, the binary passes process streams. */
export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** A mistake in how the command was called: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
