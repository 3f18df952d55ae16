/**
 * Clinic.js flame and bubbleprof through their programmatic API (the `clinic` CLI only wraps these two classes,
 * and adds an analytics prompt, an update check and 300 more packages). `collect` runs a node command under the
 * tool and resolves with its data folder; `visualize` turns that folder into one self-contained HTML file.
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';

export const TOOLS = ['flame', 'bubbleprof'] as const;
export type ClinicTool = (typeof TOOLS)[number];

/** Called once the profiled process listens on a TCP port; call `stop` to end the process and collect. */
export type OnPort = (port: number, stop: () => void) => void;

interface ClinicInstance {
  collect(argv: string[], cb: (err: Error | null, dir: string) => void): void;
  visualize(dir: string, html: string, cb: (err: Error | null) => void): void;
  on(event: 'port', listener: (port: number, proc: unknown, stop: () => void) => void): void;
  /** Emitted when the profiled process has exited, before the tool reads its data. */
  on(event: 'analysing', listener: () => void): void;
}
type ClinicClass = new (settings: { detectPort?: boolean; dest?: string; debug?: boolean }) => ClinicInstance;

const require = createRequire(import.meta.url);
const classes: Record<ClinicTool, () => ClinicClass> = {
  flame: () => (categoriseTypeScriptAsCode(), require('@clinic/flame') as ClinicClass),
  bubbleprof: () => require('@clinic/bubbleprof') as ClinicClass,
};

/** A JS frame of a .ts/.mts/.cts file (Node's type stripping), as 0x names it: "fn file:///…/x.ts:12:3". */
const TS_FRAME = / file:\/\/\S+\.[cm]?ts:\d+:\d+( \[INIT\])?( \[INLINABLE\])?$/;

interface FrameNodePrototype {
  getCoreOrV8Type(this: unknown, name: string, systemInfo: unknown): { type: string; category: string } | null;
}

/**
 * Clinic flame 13 files every frame whose name has no ".js" and no "node:" under V8 (`getCoreOrV8Type`), and its
 * report hides V8 frames by default: all of our .ts code would vanish from the default view. Frames of .ts files
 * get no V8 type here, so they fall through to clinic's dependency (under node_modules) or application category.
 */
function categoriseTypeScriptAsCode(): void {
  const proto = (require('@clinic/flame/analysis/frame-node.js') as { prototype: FrameNodePrototype }).prototype;
  const v8Type = proto.getCoreOrV8Type;
  if ((v8Type as { patched?: boolean }).patched) return;
  proto.getCoreOrV8Type = Object.assign(function (this: unknown, name: string, systemInfo: unknown) {
    return TS_FRAME.test(name) ? null : v8Type.call(this, name, systemInfo);
  }, { patched: true });
}

export interface Collection {
  tool: ClinicTool;
  /** The folder of the collected data (for flame: DIR/NAME-samples, the V8 ticks as JSON stacks). */
  dir: string;
  /** From the start of the process to its exit. */
  wallMs: number;
  clinic: ClinicInstance;
}

/**
 * Runs `argv` (argv[0] is the node binary) under the tool. Data goes to `dest`; both tools also write scratch
 * files to the current directory, so run this from a temporary one. With `onPort`, the tool's preload reports the
 * first port the process listens on, and `stop` ends the process:
 * - flame: the tool's way, 0x closes a pipe and its preload in the child calls process.exit();
 * - bubbleprof: SIGINT, so the server shuts down by itself and the process exits when its loop drains, after
 *   bubbleprof's async-hooks log is flushed. Bubbleprof's own stop (close a pipe, the child emits 'beforeExit',
 *   the logger ends its stack-trace stream and calls process.exit() on 'close') hangs: the stream never finishes
 *   (@clinic/bubbleprof 10.0.0 under Node 26.10 and 20.20 alike).
 */
export function collect(tool: ClinicTool, argv: string[], dest: string, onPort?: OnPort): Promise<Collection> {
  const clinic = new (classes[tool]())({ detectPort: onPort !== undefined, dest });
  if (onPort) clinic.on('port', (port, proc, stop) => onPort(port, tool === 'bubbleprof' ? () => (proc as ChildProcess).kill('SIGINT') : stop));
  const started = performance.now();
  let wallMs = 0;
  clinic.on('analysing', () => (wallMs = performance.now() - started));
  return new Promise((resolve, reject) => {
    clinic.collect(argv, (err, dir) => (err ? reject(err) : resolve({ tool, dir, wallMs, clinic })));
  });
}

/** Writes the tool's HTML report of a collection to `html`. */
export function visualize(c: Collection, html: string): Promise<void> {
  return new Promise((resolve, reject) => c.clinic.visualize(c.dir, html, (err) => (err ? reject(err) : resolve())));
}
