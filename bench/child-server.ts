/**
 * A server under test in a child process of its own (pinned to a CPU where possible, when given one): started,
 * its URL read from the line it prints when listening, and stopped with SIGTERM, waiting for it to exit (a
 * `tai serve` writes its last receipts and state then). With `loopDelay`, the server records its event loop's delay
 * (bench/load/loop-delay-probe.ts), read per load phase over an IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pinnedCommand } from './cpu-pin.ts';
import type { LoopDelay, LoopDelayAsk } from './load/loop-delay-probe.ts';

const PROBE = fileURLToPath(new URL('./load/loop-delay-probe.ts', import.meta.url));

export interface ChildServer {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
  /** Started with `loopDelay`: starts a load phase's record of the event loop's delay afresh. */
  resetLoopDelay(): Promise<void>;
  /** Started with `loopDelay`: the event loop's delay since the last reset. */
  readLoopDelay(): Promise<LoopDelay>;
}

/** `tai serve` prints "serving decisions on URL"; the bare baselines "listening on URL". */
const LISTENING = /(?:serving decisions on|listening on) (https?:\/\/\S+)/;

/** Runs `node ARGS…` (on CPU `core`, if given) and resolves once it prints the URL it listens on. */
export async function startChildServer(args: readonly string[], core?: number, o: { stderr?: 'inherit' | 'ignore'; loopDelay?: boolean } = {}): Promise<ChildServer> {
  const nodeArgs = o.loopDelay ? ['--import', PROBE, ...args] : [...args];
  const [cmd, argv] = core === undefined ? [process.execPath, nodeArgs] : pinnedCommand(core, process.execPath, nodeArgs);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', o.stderr ?? 'inherit', ...(o.loopDelay ? (['ipc'] as const) : [])] });
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
    resetLoopDelay: async () => void (await ask(child, { loopDelay: 'reset' })),
    readLoopDelay: async () => (await ask(child, { loopDelay: 'read' })) as LoopDelay,
  };
}

/** One question to the probe, answered in order (the bench asks one at a time). */
function ask(child: ChildProcess, question: LoopDelayAsk): Promise<unknown> {
  if (child.send === undefined) throw new Error('the server was not started with loopDelay');
  return new Promise((resolve, reject) => {
    child.once('message', (m: { loopDelay: unknown }) => resolve(m.loopDelay));
    child.send(question, (e) => e && reject(e));
  });
}
