import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const TAI = resolve(import.meta.dirname, '../../cli/tai.ts');

/** A running `tai serve` process and what it printed. */
export interface Served {
  url: string;
  child: ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** How the process starts: by default this Node, this checkout's cli/tai.ts, this environment and folder. */
export interface ServeProcess {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Another Node binary (the image's Node 24). */
  node?: string;
  /** Another cli/tai.ts (an installed package's). */
  tai?: string;
}

/** Starts `tai serve ARGS…` (add `--listen 127.0.0.1:0`) and resolves once it says where it listens. */
export async function startServe(args: readonly string[], o: ServeProcess = {}): Promise<Served> {
  const child = spawn(o.node ?? process.execPath, [o.tai ?? TAI, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: o.env ?? process.env, cwd: o.cwd });
  const stdout: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      stdout.push(l);
      const m = /serving decisions on (https?:\/\/[^\s"]+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`tai serve exited with ${code}:\n${stdout.join('\n')}\n${stderr.join('\n')}`)));
  });
  return { url, child, stdout, stderr, exited };
}

/** Stops a served process with SIGTERM (SIGKILL after 10 s) and waits for it. */
export async function stopServe(s: Served): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), 10_000);
  await s.exited;
  clearTimeout(timer);
}

export async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return (await res.json()) as Record<string, unknown>;
}

export async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await fetch(url)).json()) as Record<string, unknown>;
}

/** Polls until `probe` holds; no timing assertion (speed is measured in bench/), only a generous deadline. */
export async function eventually(probe: () => Promise<boolean> | boolean, deadlineMs = 15_000, everyMs = 25): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (await probe()) return true;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return false;
}
