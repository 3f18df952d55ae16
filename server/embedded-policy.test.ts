import test, { type ExecutionContext } from 'ava';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CompiledPolicy, Governor, PolicyCompiler } from '../governor/index.ts';
import { EmbeddedPolicy, FALLBACK_POLL_MS, type LoadReport } from './embedded-policy.ts';

async function samples(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-embedded-policy-'));
  await cp('config/samples', dir, { recursive: true });
  return dir;
}

async function setSeats(dir: string, limit: number): Promise<void> {
  const path = join(dir, 'skus.yaml');
  await writeFile(path, (await readFile(path, 'utf8')).replace(/seats: \{ limit: \d+, kind: gauge \}/, `seats: { limit: ${limit}, kind: gauge }`));
}

const starterSeats = (c: PolicyCompiler): number | undefined => c.resources.skus.get('starter')?.spec.quotas?.seats?.limit;

/** A policy over a copy of config/samples, loaded, and followed by a poll the test ticks and no file events. */
async function polled(t: ExecutionContext) {
  const dir = await samples();
  const compiler = new PolicyCompiler();
  const snapshots: number[] = [];
  compiler.onSnapshot((s) => snapshots.push(s.generation));
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 } });
  await policy.load();
  const reports: LoadReport[] = [];
  const failures: unknown[] = [];
  const poll: { ms?: number; tick?: () => Promise<void> } = {};
  const stop = policy.watch(
    (r) => reports.push(r),
    (e) => failures.push(e),
    {
      pollMs: 5000,
      watchFolder: () => () => undefined, // a mount whose changes raise no events (Cloud Storage FUSE, NFS)
      poll: (ms, tick) => {
        Object.assign(poll, { ms, tick });
        return () => delete poll.tick;
      },
    },
  );
  t.teardown(async () => {
    stop();
    await rm(dir, { recursive: true, force: true });
  });
  return { dir, compiler, snapshots, reports, failures, poll, stop };
}

test('the poll finds a change no file event reported; an unchanged folder makes no generation and no report', async (t) => {
  const { dir, compiler, snapshots, reports, failures, poll, stop } = await polled(t);
  t.is(poll.ms, 5000);
  t.is(starterSeats(compiler), 5);
  const generation = compiler.snapshot.generation;

  await poll.tick!();
  t.deepEqual(reports, [], 'unchanged: no report');
  t.is(compiler.snapshot.generation, generation, 'unchanged: no new generation');

  await setSeats(dir, 9);
  await poll.tick!();
  t.is(reports.length, 1);
  t.like(reports[0], { changed: 1, problems: [] });
  t.is(starterSeats(compiler), 9);
  t.is(compiler.snapshot.generation, generation + 1);

  await poll.tick!();
  await poll.tick!();
  t.is(reports.length, 1, 'unchanged again');
  t.deepEqual(snapshots, [generation, generation + 1]);
  t.deepEqual(failures, []);
  stop();
  t.is(poll.tick, undefined, 'stopping stops the poll');
});

test('a folder that cannot be read is reported once, not on every poll, and recovering is a reload', async (t) => {
  const { dir, compiler, reports, poll } = await polled(t);
  const generation = compiler.snapshot.generation;
  const moved = `${dir}-away`;
  await cp(dir, moved, { recursive: true });
  await rm(dir, { recursive: true });
  t.teardown(() => rm(moved, { recursive: true, force: true }));

  await poll.tick!();
  await poll.tick!();
  t.is(reports.length, 1);
  t.regex(reports[0]!.problems.join('\n'), /ENOENT/);
  t.is(compiler.snapshot.generation, generation, 'the last good state keeps serving');

  await cp(moved, dir, { recursive: true });
  await poll.tick!();
  t.is(reports.length, 2);
  t.deepEqual(reports[1]!.problems, []);
});

test('a reload that threw is not taken as applied: the next one applies and reports', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const compiler = new PolicyCompiler();
  let failNext = false;
  const onSnapshot = (): void => {
    if (failNext) throw ((failNext = false), new Error('receipt log unavailable'));
  };
  compiler.onSnapshot(onSnapshot);
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 } });
  await policy.load();
  await setSeats(dir, 9);
  failNext = true;
  await t.throwsAsync(policy.reload(), { message: 'receipt log unavailable' });
  t.truthy(await policy.reload(), 'the same folder again is still a read to apply and report');
  t.is(starterSeats(compiler), 9);
  t.is(await policy.reload(), undefined, 'applied now');
});

test('every load applies, even of an unchanged folder', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const compiler = new PolicyCompiler();
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 } });
  const first = await policy.load();
  t.like(first, { counts: { SKU: 4, Tenant: 6, Quota: 2 }, problems: [] });
  t.is((await policy.load()).snapshot.generation, first.snapshot.generation + 1);
});

test('a folder that cannot be watched (inotify’s limit) is polled instead, and saved edits are still enforced', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const compiler = new PolicyCompiler();
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 } });
  await policy.load();
  const messages: string[] = [];
  const poll: { ms?: number; tick?: () => Promise<void> } = {};
  const stop = policy.watch(
    () => undefined,
    (e) => t.fail(String(e)),
    {
      watchFolder: () => {
        throw Object.assign(new Error('ENOSPC: System limit for number of file watchers reached'), { code: 'ENOSPC' });
      },
      poll: (ms, tick) => (Object.assign(poll, { ms, tick }), () => delete poll.tick),
      onUnwatchable: (m) => messages.push(m),
    },
  );
  t.teardown(stop);
  t.is(poll.ms, FALLBACK_POLL_MS, 'no --poll-interval was asked for, and the folder is polled anyway');
  t.regex(messages[0]!, /cannot watch .* \(ENOSPC: System limit for number of file watchers reached\): re-reading it every 2 s instead/);
  await setSeats(dir, 8);
  await poll.tick!();
  t.is(starterSeats(compiler), 8);
});

// Issue 15: a YAML "\ud800" escape in a string feature value would reach a reconcile receipt, which cannot
// encode it. The folder loader refuses the file with file, line and field path, and keeps its last good state.
test('a lone surrogate escape in a feature value is a problem naming file, line and field; the last good SKU stays', async (t) => {
  const { dir, compiler, reports, poll } = await polled(t);
  const generation = compiler.snapshot.generation;
  const path = join(dir, 'skus.yaml');
  await writeFile(path, (await readFile(path, 'utf8')).replace('support: community', 'support: "community\\ud800"'));
  await poll.tick!();
  t.is(reports.length, 1);
  t.deepEqual(
    reports[0]!.problems.filter((p) => p.includes('surrogate')),
    [`${relative(process.cwd(), path)}:12: spec.features.support: text has a lone UTF-16 surrogate (half of a pair, e.g. the escape "\\ud800"), which is not Unicode and cannot be recorded: write the whole character`],
  );
  t.is(compiler.resources.skus.get('starter')?.spec.features?.support, 'community');
  t.is(reports[0]!.changed, 0);
  t.true(compiler.snapshot.generation >= generation);
});

test('staleMs counts from the read that found the folder broken, and a restore of the same bytes clears it', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const time = { now: Date.parse('2026-11-28T12:00:00Z') };
  const policy = new EmbeddedPolicy({ dir, compiler: new PolicyCompiler(), clock: { now: () => time.now } });
  await policy.load();
  const path = join(dir, 'skus.yaml');
  const good = await readFile(path, 'utf8');
  time.now += 27 * 60_000; // 27 minutes of serving a good folder, no reload needed
  t.like(policy.readiness(), { problems: 0, staleMs: 0 });

  await writeFile(path, good.replace('displayName: Starter', 'displayName: [Starter'));
  t.true((await policy.reload())!.problems.length > 0);
  t.like(policy.readiness(), { staleMs: 0 }, 'broken just now');
  time.now += 3_000;
  t.like(policy.readiness(), { staleMs: 3_000 }, 'three seconds after the file broke, not 27 minutes');

  await writeFile(path, good); // the very same bytes as before
  t.deepEqual((await policy.reload())!.problems, []);
  t.like(policy.readiness(), { problems: 0, staleMs: 0 });

  time.now += 60_000;
  await writeFile(path, good.replace('displayName: Starter', 'displayName: [Starter'));
  await policy.reload();
  time.now += 1_000;
  t.like(policy.readiness(), { staleMs: 1_000 }, 'a second break counts from itself');
});

test('a reload of a large folder is parsed and compiled in slices: decisions between them answer from the last snapshot', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tenantDoc = (i: number, sku: string): string => `apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: bulk-${i}\nspec:\n  sku: ${sku}\n`;
  const bulk = (sku: string): string => Array.from({ length: 2000 }, (_, i) => tenantDoc(i, sku)).join('---\n');
  await writeFile(join(dir, 'bulk.yaml'), bulk('starter'));
  const compiler = new PolicyCompiler();
  const turns: string[] = [];
  let answered = 0;
  const pause = async (): Promise<void> => {
    // What a decision arriving in this turn of the event loop would read.
    turns.push(String(compiler.snapshot.tenants.get('bulk-1999')?.quotas['api-calls']?.limit));
    answered++;
  };
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 }, pause });
  await policy.load();
  turns.length = 0;
  await writeFile(join(dir, 'bulk.yaml'), bulk('growth'));
  const report = (await policy.reload())!;
  t.deepEqual(report.problems, []);
  t.true(turns.length >= 10, `${turns.length} turns given to the event loop`);
  // Before the switch every turn saw the last snapshot whole (starter’s limit); after it (the status report), the new.
  // (A slice after the switch there may be none: the status report can fit in one.)
  const switched = turns.includes('1000000') ? turns.indexOf('1000000') : turns.length;
  t.true(switched > 10, `${switched} turns before the switch`);
  t.deepEqual([...new Set(turns.slice(0, switched))], ['100000']);
  t.false(turns.slice(switched).includes('100000'), 'none after it');
  t.is(compiler.snapshot.tenants.get('bulk-1999')!.quotas['api-calls']!.limit, 1_000_000);
  t.true(answered > 0);
});

test('a decision during a sliced reload is answered by the old policy, and the first after the switch by the new', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tenantDoc = (i: number, sku: string): string => `apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: bulk-${i}\nspec:\n  sku: ${sku}\n`;
  await writeFile(join(dir, 'bulk.yaml'), Array.from({ length: 1000 }, (_, i) => tenantDoc(i, 'starter')).join('---\n'));
  const compiler = new PolicyCompiler();
  const clock = { now: () => 0 };
  const governor = new Governor({ policy: new CompiledPolicy(compiler), clock });
  const answers: boolean[] = [];
  // Every turn the reload gives to the event loop, a caller asks whether bulk-999 has SSO (starter: no; growth: yes).
  const pause = async (): Promise<void> => void answers.push(governor.check({ tenant: 'bulk-999', feature: 'sso' }).allowed);
  const policy = new EmbeddedPolicy({ dir, compiler, clock, pause });
  await policy.load();
  answers.length = 0;
  await writeFile(join(dir, 'bulk.yaml'), Array.from({ length: 1000 }, (_, i) => tenantDoc(i, 'growth')).join('---\n'));
  const reloading = policy.reload();
  t.false(compiler.snapshot.tenants.get('bulk-999')!.features.sso!.value as boolean);
  await reloading;
  const switched = answers.includes(true) ? answers.indexOf(true) : answers.length;
  t.true(switched > 10, `${switched} decisions answered by the old policy during the reload`);
  t.false(answers.slice(switched).includes(false), 'none by the old one after the switch');
  t.true(governor.check({ tenant: 'bulk-999', feature: 'sso' }).allowed);
});

test('a save during a sliced reload is applied after it, never into it', async (t) => {
  const dir = await samples();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tenantDoc = (i: number, sku: string): string => `apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata:\n  name: bulk-${i}\nspec:\n  sku: ${sku}\n`;
  const bulk = (sku: string): string => Array.from({ length: 1000 }, (_, i) => tenantDoc(i, sku)).join('---\n');
  await writeFile(join(dir, 'bulk.yaml'), bulk('starter'));
  const compiler = new PolicyCompiler();
  let onTurn = (): void => undefined;
  const pause = async (): Promise<void> => {
    onTurn();
    await new Promise((resolve) => setImmediate(resolve));
  };
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => 0 }, pause });
  const first = (await policy.load()).snapshot.generation;
  const generations: number[] = [];
  compiler.onSnapshot((s) => generations.push(s.generation));
  await writeFile(join(dir, 'bulk.yaml'), bulk('growth'));
  let second: Promise<LoadReport | undefined> | undefined;
  let turns = 0;
  onTurn = () => {
    // Halfway through the first reload, another save, and another reload asked for.
    if (++turns !== 200) return;
    second = writeFile(join(dir, 'bulk.yaml'), bulk('enterprise')).then(() => policy.reload());
  };
  const reloaded = (await policy.reload())!;
  t.truthy(second, 'the second save came during the first reload');
  t.is(reloaded.snapshot.tenants.get('bulk-999')!.sku, 'growth', 'the first reload applies what it read');
  const after = (await second)!;
  t.is(after.snapshot.tenants.get('bulk-999')!.sku, 'enterprise');
  t.deepEqual(generations, [first + 1, first + 2], 'one snapshot each, in order');
});
