// Crash test (issue #3): a server under concurrent consume load in sync durability is killed with SIGKILL at
// random moments; after each restart the log verifies, every answered decision's index holds the receipt that
// was answered, and usage equals what the log recomputes.
import test from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { toHex, verifyLog } from '../receipts/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';

const ROUNDS = 6;
const WORKERS = 8;

interface Answer {
  index: number;
  leafHash: string;
  used: number;
}

const startLines: string[] = [];

function start(dir: string, logDir: string): { child: ChildProcess; url: Promise<string> } {
  const child = spawn(process.execPath, ['cli/tai.ts', 'serve', '--from', dir, '--listen', '127.0.0.1:0', '--log', logDir, '--key', join(logDir, '..', 'signing.key'), '--state-every', '200'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      startLines.push(l);
      const m = /serving decisions on (http:\/\/\S+)/.exec(l);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code, signal) => reject(new Error(`server exited early: ${code ?? signal}`)));
  });
  return { child, url };
}

async function consume(url: string, amount: number): Promise<Answer & { allowed: boolean }> {
  const res = await fetch(`${url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount }) });
  const body = (await res.json()) as { allowed: boolean; used: number; receipt: { index: number; leafHash: string } };
  return { allowed: body.allowed, used: body.used, ...body.receipt };
}

/** Hammers the server until it dies; returns every answer that came back. */
async function load(url: string, answers: Answer[]): Promise<void> {
  const worker = async (): Promise<void> => {
    for (;;) {
      try {
        answers.push(await consume(url, 1 + Math.floor(Math.random() * 5)));
      } catch {
        return; // the server was killed
      }
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
}

/** Reads the whole log back (which checks every entry and the chain) and recomputes initech's usage. */
async function readBack(logDir: string): Promise<{ leaves: Map<number, string>; used: number }> {
  const leaves = new Map<number, string>();
  let used = 0;
  const log = await ReceiptLog.open({
    dir: logDir,
    durability: 'sync',
    clock: { now: Date.now },
    onEntry: (e) => {
      leaves.set(e.index, toHex(e.leafHash));
      const b = e.receipt.body;
      if (e.receipt.kind === 'decision' && b.tenant === 'initech' && b.subject === 'api-calls' && b.allowed === true) used = b.used as number;
    },
  });
  await log.close();
  return { leaves, used };
}

test('SIGKILL under load: every answered receipt is in the log, the log verifies, usage is rebuilt', async (t) => {
  t.timeout(120_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-crash-'));
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  const logDir = join(dir, 'log');
  const all: Answer[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const server = start(join(dir, 'policy'), logDir);
    const url = await server.url;
    const answers: Answer[] = [];
    const running = load(url, answers);
    // Short rounds kill mid-start-up; long ones outlive a run-state save (every second, every 200 entries).
    await new Promise((r) => setTimeout(r, round % 2 === 0 ? 150 + Math.random() * 600 : 1300 + Math.random() * 1200));
    server.child.kill('SIGKILL');
    await running;
    all.push(...answers);
    const { leaves, used } = await readBack(logDir);
    for (const a of answers) t.is(leaves.get(a.index), a.leafHash, `round ${round}: answered receipt ${a.index} is in the log`);
    const maxAnswered = Math.max(0, ...answers.filter((a) => a.used !== undefined).map((a) => a.used));
    t.true(used >= maxAnswered, `round ${round}: the log holds at least the usage that was answered`);
    t.log(`round ${round}: ${answers.length} answers, log size ${leaves.size}, usage ${used}`);
  }
  // A last restart serves the usage the log recomputes.
  const { used } = await readBack(logDir);
  const server = start(join(dir, 'policy'), logDir);
  const peek = await consume(await server.url, 0);
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGTERM');
  await exited;
  t.is(peek.used, used);
  // After a clean stop the published layout covers every entry, and it verifies against the signing key.
  const vkey = (await readFile(join(dir, 'signing.key.pub'), 'utf8')).trim();
  const verified = await verifyLog({ read: async (p) => readFile(join(logDir, p)).then((b) => new Uint8Array(b)).catch(() => undefined), verifierKey: vkey });
  t.true(verified.ok, JSON.stringify(verified.defects));
  t.is(verified.entries, (await readBack(logDir)).leaves.size);
  t.true(all.length > ROUNDS * 10, `load was real: ${all.length} answered decisions`);
  t.true(startLines.some((l) => /replayed after the saved state at \d+/.test(l)), 'some restart resumed from the saved run state');
});
