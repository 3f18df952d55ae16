/**
 * A real `tai serve --from <samples>` child for the restart scenario: started and timed to serving, filled with
 * decisions through POST /v1/batch, checked for the usage and idempotent answers it should have rebuilt, and
 * stopped cleanly (SIGTERM) or killed (SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MAX_BATCH } from '../../http/decision-schemas.ts';
import { pinnedCommand } from '../cpu-pin.ts';

const CLI = fileURLToPath(new URL('../../cli/tai.ts', import.meta.url));
/** The core the server runs on (the bench and its requests keep the other one). */
export const SERVER_CORE = 1;
const TENANT = 'acme';
/** Servers started and not yet exited, so a failing run leaves none behind. */
const live = new Map<ChildProcess, Promise<unknown>>();

/** Where a run keeps its policy copy and signing key. */
export interface Workdir {
  root: string;
  policy: string;
  key: string;
}

export interface StartedServer {
  child: ChildProcess;
  url: string;
  /** ms from spawn to the "serving decisions on" line. */
  lineMs: number;
  /** ms from spawn to the first 200 from GET /readyz. */
  readyMs: number;
  /** From the "receipt log DIR: N entries (M replayed …)" line. */
  entries: number;
  replayed: number;
  /** The server said its state.json was stale and replayed the whole log. */
  stale: boolean;
  exited: Promise<number | null>;
}

/** Starts `tai serve` on `logDir` and resolves once /readyz answers 200. */
export async function startServer(w: Workdir, logDir: string, extra: readonly string[] = []): Promise<StartedServer> {
  const args = [CLI, 'serve', '--from', w.policy, '--listen', '127.0.0.1:0', '--log', logDir, '--key', w.key, '--durability', 'async', ...extra];
  const [cmd, argv] = pinnedCommand(SERVER_CORE, process.execPath, args);
  const started = performance.now();
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code))).finally(() => live.delete(child));
  live.set(child, exited);
  const seen = await serving(child, exited);
  const lineMs = performance.now() - started;
  await ready(seen.url);
  return { child, url: seen.url, lineMs, readyMs: performance.now() - started, ...seen.log, exited };
}

interface Seen {
  url: string;
  log: { entries: number; replayed: number; stale: boolean };
}

/** Reads the child's stdout up to the "serving decisions on URL" line (and keeps draining it after). */
function serving(child: ChildProcess, exited: Promise<number | null>): Promise<Seen> {
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.push(s));
  return new Promise((resolve, reject) => {
    const log = { entries: -1, replayed: -1, stale: false };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const entries = /receipt log .*: (\d+) entries \((\d+) replayed/.exec(line);
      if (entries) Object.assign(log, { entries: Number(entries[1]), replayed: Number(entries[2]) });
      if (/is stale; replaying the whole log/.test(line)) log.stale = true;
      const m = /serving decisions on (http:\/\/\S+)/.exec(line);
      if (m) resolve({ url: m[1]!, log });
    });
    void exited.then((code) => reject(new Error(`tai serve exited with ${code} before serving: ${stderr.join('').trim().slice(-2000)}`)));
  });
}

async function ready(url: string): Promise<void> {
  for (;;) {
    const res = await fetch(`${url}/readyz`);
    await res.arrayBuffer();
    if (res.status === 200) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** SIGTERM (a clean stop: flushes the log and writes state.json) or SIGKILL (a crash). */
export async function stopServer(s: StartedServer, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  s.child.kill(signal);
  const code = await s.exited;
  if (signal === 'SIGTERM' && code !== 0) throw new Error(`tai serve exited with ${code} after SIGTERM`);
}

/** Kills (SIGKILL) every server this module started that is still running; resolves once they have exited. */
export async function killLeftovers(): Promise<void> {
  const exits = [...live.values()];
  for (const child of live.keys()) child.kill('SIGKILL');
  await Promise.all(exits);
}

/** What the fill decided, to check a restarted server against. */
export interface FillLedger {
  /** Allowed consumes of 1 api-call for acme: its usage. */
  consumed: number;
  decisions: number;
  /** The keyed consume with the highest receipt index: a replay of it must answer that receipt. */
  lastKeyed?: { key: string; index: number };
}

/** Decision `i` of the fill: 3 in 4 consume 1 api-call (every 8th with an idempotency key), the rest check a feature. */
function decisionAt(i: number): object {
  if (i % 4 === 3) return { op: 'check', tenant: TENANT, feature: 'max-projects' };
  return { op: 'consume', tenant: TENANT, metric: 'api-calls', amount: 1, ...(i % 8 === 0 ? { idempotencyKey: `fill-${i}` } : {}) };
}

interface BatchResult {
  op: string;
  allowed: boolean;
  receipt: { index: number };
}

async function postBatch(url: string, from: number, size: number, ledger: FillLedger): Promise<void> {
  const decisions = Array.from({ length: size }, (_, k) => decisionAt(from + k));
  const res = await fetch(`${url}/v1/batch`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ decisions }) });
  if (!res.ok) throw new Error(`restart: POST /v1/batch answered ${res.status}: ${await res.text()}`);
  const { results } = (await res.json()) as { results: BatchResult[] };
  results.forEach((r, k) => {
    if (r.op === 'consume' && !r.allowed) throw new Error(`restart: fill decision ${from + k} was denied`);
    if (r.op === 'consume') ledger.consumed++;
    const key = (decisions[k] as { idempotencyKey?: string }).idempotencyKey;
    if (key && r.receipt.index > (ledger.lastKeyed?.index ?? -1)) ledger.lastKeyed = { key, index: r.receipt.index };
  });
  ledger.decisions += size;
}

/** Decisions `from` … `from + count - 1`, in batches of MAX_BATCH with two requests in flight. */
export async function fill(url: string, range: { from: number; count: number }, ledger: FillLedger): Promise<void> {
  const end = range.from + range.count;
  let next = range.from;
  const sender = async (): Promise<void> => {
    while (next < end) {
      const from = next;
      const size = Math.min(MAX_BATCH, end - from);
      next += size;
      await postBatch(url, from, size, ledger);
    }
  };
  await Promise.all([sender(), sender()]);
}

async function consume(url: string, body: object): Promise<{ used: number; receipt: { index: number } }> {
  const res = await fetch(`${url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: TENANT, metric: 'api-calls', ...body }) });
  if (!res.ok) throw new Error(`restart: POST /v1/consume answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { used: number; receipt: { index: number } };
}

/**
 * Throws unless the server has acme's usage and the last idempotent answer of the fill: a peek (amount 0)
 * answers the usage, and a replay of the last keyed consume answers its first receipt (and counts nothing).
 */
export async function checkRebuilt(url: string, ledger: FillLedger): Promise<void> {
  const peek = await consume(url, { amount: 0 });
  if (peek.used !== ledger.consumed) throw new Error(`restart: acme api-calls used ${peek.used} after restart, want ${ledger.consumed}`);
  if (!ledger.lastKeyed) return;
  const replay = await consume(url, { amount: 1, idempotencyKey: ledger.lastKeyed.key });
  if (replay.receipt.index !== ledger.lastKeyed.index) throw new Error(`restart: idempotent replay of ${ledger.lastKeyed.key} answered receipt ${replay.receipt.index}, want ${ledger.lastKeyed.index}`);
}

export const stateFile = (logDir: string): string => join(logDir, 'state.json');
