// The real thing (issue 15, defect 7): `tai serve` with its log on a 2 MiB tmpfs, fed decisions until the disk is
// full, then space is freed. Every 200 answer must be in the log at its index after restart; nothing answered
// "nothing was decided" may be in the log or counted; /readyz says 503 (naming the log) while the log cannot
// write and 200 again once it recovered by itself; SIGTERM with a failing log exits non-zero with one line.
// Needs root (mount); skipped with a message otherwise.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, mkdtemp, open, rm, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../receipts/index.ts';
import { ReceiptLog } from '../receipts/store/index.ts';
import { startServe, stopServe, type Served } from './support/served.ts';

interface Outcome {
  key: string;
  status: number;
  detail?: string;
  receipt?: { index: number; leafHash: string };
}

const isRoot = process.getuid?.() === 0;

async function consume(url: string, key: string): Promise<Outcome> {
  const res = await fetch(`${url}/v1/consume`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 1, idempotencyKey: key }),
  });
  const body = (await res.json()) as { detail?: string; receipt?: Outcome['receipt'] };
  return { key, status: res.status, detail: body.detail, receipt: body.receipt };
}

const refused = (o: Outcome): boolean => o.status === 503 && /nothing was decided/.test(o.detail ?? '');

/** Feeds consumes from 8 workers until `failures` answers were not 200 (or a cap is reached). */
async function feedUntilFull(url: string, outcomes: Outcome[], prefix: string, failures = 20): Promise<void> {
  let n = 0;
  const worker = async (): Promise<void> => {
    while (outcomes.filter((o) => o.key.startsWith(prefix) && o.status !== 200).length < failures && n < 20_000) {
      outcomes.push(await consume(url, `${prefix}-${n++}`));
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}

/** Fills the tmpfs (the server writes meanwhile, so until ENOSPC), then gives `leave` bytes back. */
async function fill(mnt: string, name: string, leave: number): Promise<void> {
  const file = await open(join(mnt, name), 'a');
  let size = (await file.stat()).size;
  try {
    for (const chunk = Buffer.alloc(16 * 1024); ; size += chunk.length) await file.write(chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    size = (await file.stat()).size;
  }
  await file.truncate(Math.max(0, size - leave));
  await file.close();
}

async function readiness(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: await res.text() };
}

/** Asks /readyz until it answers `status` or the deadline passes; returns the last answer. */
async function readyzBecomes(url: string, status: number, deadlineMs: number): Promise<{ status: number; body: string }> {
  const until = Date.now() + deadlineMs;
  let r = await readiness(url);
  while (r.status !== status && Date.now() < until) {
    await new Promise((s) => setTimeout(s, 100));
    r = await readiness(url);
  }
  return r;
}

/** The log read back after a stop: leaf hash by index, and the consume entries' idempotency keys. */
async function readBack(logDir: string): Promise<{ leaves: Map<number, string>; keys: Map<string, number>; used: number }> {
  const leaves = new Map<number, string>();
  const keys = new Map<string, number>();
  let used = 0;
  const log = await ReceiptLog.open({
    dir: logDir,
    durability: 'sync',
    clock: { now: Date.now },
    onEntry: (e) => {
      leaves.set(e.index, toHex(e.leafHash));
      const b = e.receipt.body;
      if (e.receipt.kind !== 'decision' || b.tenant !== 'initech' || b.subject !== 'api-calls' || b.allowed !== true) return;
      keys.set(b.idempotencyKey as string, e.index);
      used = b.used as number;
    },
  });
  await log.close();
  return { leaves, keys, used };
}

test('a full disk: 503 while the log cannot write, recovery by itself once space returns, no phantom and no lost decision', async (t) => {
  if (!isRoot) {
    t.log('skipped: mounting a tmpfs needs root (CI runs as root)');
    t.pass();
    return;
  }
  t.timeout(120_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-disk-full-'));
  const mnt = join(dir, 'mnt');
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  const logDir = join(mnt, 'log');
  const args = ['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', logDir, '--key', join(dir, 'signing.key'), '--state-every', '50'];
  const outcomes: Outcome[] = [];
  let served: Served | undefined;
  try {
    served = await startServe(args);
    await fill(mnt, 'filler', 48 * 1024);
    await feedUntilFull(served.url, outcomes, 'a');
    const full = await readiness(served.url);
    t.is(full.status, 503, `/readyz while the log cannot write: ${full.body}`);
    t.regex(full.body, /"log":\{"writable":false,"error":"ENOSPC/);
    t.regex(await (await fetch(`${served.url}/metrics`)).text(), /^tai_log_write_failing 1$/m);
    await rm(join(mnt, 'filler'));
    const back = await readyzBecomes(served.url, 200, 30_000);
    t.is(back.status, 200, `/readyz once space returned: ${back.body}`);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => consume(served!.url, `b-${i}`)));
    t.deepEqual(after.map((o) => o.status), Array(10).fill(200), 'decisions are answered again once space returned');
    outcomes.push(...after);
    // A decision whose outcome was unknown: a retry with the same key answers what was recorded.
    for (const o of outcomes.filter((x) => x.status !== 200 && !refused(x))) {
      const retry = await consume(served.url, o.key);
      t.is(retry.status, 200, `retry of ${o.key} (${o.detail}) once the log recovered`);
      outcomes.push(retry);
    }

    // The server keeps publishing and saving its run state after the outage (every 50 entries here).
    const statePath = join(logDir, 'state.json');
    for (let i = 0; i < 100 && !(await stat(statePath).catch(() => undefined)); i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => consume(served!.url, `s-${i}-${j}`)).map((p) => p.then((o) => outcomes.push(o))));
      await new Promise((r) => setTimeout(r, 100));
    }
    // A publish that failed on the full disk is redone whole by the next one, so checkpoints and state.json resume.
    const saved = (await stat(statePath).catch(() => undefined)) !== undefined;
    t.true(saved, `${statePath} is written again after the outage`);

    // Full again, then SIGTERM: a clean exit, non-zero, one line, no stack.
    await fill(mnt, 'filler', 16 * 1024);
    await feedUntilFull(served.url, outcomes, 'c', 5);
    served.child.kill('SIGTERM');
    const code = await served.exited;
    t.not(code, 0, 'a stop with a failing log exits non-zero');
    t.not(code, null);
    t.false(served.stderr.some((l) => /^\s+at /.test(l)), `no stack trace:\n${served.stderr.join('\n')}`);
    t.regex(served.stderr.at(-1)!, /^tai serve: stopped with a failure: .*state\.json (stays at entry \d+|was not written); the next start rebuilds from the \d+ entries on disk$/);
    t.regex(served.stderr.at(-1)!, /stays at entry \d+/);
    t.log(served.stderr.at(-1));
    await rm(join(mnt, 'filler'));
    served = undefined;

    const { leaves, keys, used } = await readBack(logDir);
    for (const o of outcomes.filter((x) => x.status === 200)) t.is(leaves.get(o.receipt!.index), o.receipt!.leafHash, `answered ${o.key} is in the log at ${o.receipt!.index}`);
    const phantoms = outcomes.filter((o) => refused(o) && keys.has(o.key) && !outcomes.some((x) => x.key === o.key && x.status === 200));
    t.deepEqual(phantoms.map((o) => o.key), [], 'nothing answered "nothing was decided" is in the log');
    t.is(used, keys.size, 'usage counts each recorded key once');
    // A restart serves exactly the usage the log holds.
    served = await startServe(args);
    const peek = await fetch(`${served.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'initech', metric: 'api-calls', amount: 0 }) });
    t.is(((await peek.json()) as { used: number }).used, used);
    await stopServe(served);
    t.is(await served.exited, 0, served.stderr.join('\n'));
    served = undefined;
    const verify = spawnSync(process.execPath, ['cli/tai.ts', 'log', 'verify', logDir, '--vkey', join(dir, 'signing.key.pub')], { encoding: 'utf8' });
    // Tiles are written whole (temp file, fsync, rename or link): none is left short by the full disk.
    t.is(verify.status, 0, `tai log verify: ${verify.stdout}${verify.stderr}`);
    const answered = outcomes.filter((o) => o.status === 200).length;
    t.log(`${outcomes.length} answers: ${answered} 200, ${outcomes.filter(refused).length} refused, ${outcomes.length - answered - outcomes.filter(refused).length} outcome unknown; log ${leaves.size} entries`);
  } finally {
    if (served) await stopServe(served);
    execFileSync('umount', [mnt]);
    await rmdir(mnt);
    await rm(dir, { recursive: true, force: true });
  }
});

test('a disk full at start: the server starts not ready, refuses decisions, and becomes ready by itself once space returns', async (t) => {
  if (!isRoot) {
    t.log('skipped: mounting a tmpfs needs root (CI runs as root)');
    t.pass();
    return;
  }
  t.timeout(60_000);
  const dir = await mkdtemp(join(tmpdir(), 'tai-disk-full-start-'));
  const mnt = join(dir, 'mnt');
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  execFileSync('mkdir', ['-p', mnt]);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt]);
  let served: Served | undefined;
  try {
    await fill(mnt, 'filler', 0);
    served = await startServe(['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(mnt, 'log'), '--key', join(dir, 'signing.key')]);
    const full = await readiness(served.url);
    t.is(full.status, 503, full.body);
    const refused = await consume(served.url, 'x');
    t.true(refused.status === 503 && refused.detail!.includes('nothing was decided'), JSON.stringify(refused));
    await rm(join(mnt, 'filler'));
    const back = await readyzBecomes(served.url, 200, 30_000);
    t.is(back.status, 200, back.body);
    t.is((await consume(served.url, 'y')).status, 200);
    await stopServe(served);
    t.is(await served.exited, 0, served.stderr.join('\n'));
    served = undefined;
    const { keys } = await readBack(join(mnt, 'log'));
    t.deepEqual([...keys.keys()], ['y']);
  } finally {
    if (served) await stopServe(served);
    execFileSync('umount', [mnt]);
    await rmdir(mnt);
    await rm(dir, { recursive: true, force: true });
  }
});
