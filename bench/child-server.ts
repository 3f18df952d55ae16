/**
 * A server under test in a child process of its own (pinned to a CPU where possible, when given one): started,
 * its URL read from the line it prints when listening, and stopped with SIGTERM, waiting for it to exit (a
 * `tai serve` writes its last receipts and state then).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { pinnedCommand } from './cpu-pin.ts';

export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `tai serve` prints "serving decisions on URL"; the bare baselines "listening on URL". */
const LISTENING = /(?:serving decisions on|listening on) (https?:\/\/\S+)/;

/** Runs `node ARGS…` (on CPU `core`, if given) and resolves once it prints the URL it listens on. */
export async function startChildServer(args: readonly string[], core?: number, o: { stderr?: 'inherit' | 'ignore' } = {}): Promise<ChildServer> {
  const [cmd, argv] = core === undefined ? [process.execPath, [...args]] : pinnedCommand(core, process.execPath, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', o.stderr ?? 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = LISTENING.exec(line);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`node ${args.join(' ')} exited with ${code} before listening`)));
  });
  return {
    url,
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
