// Issue 15, defect 6: a valid policy whose reconcile receipt would not fit in a log entry is refused where the
// policy enters (tai validate, the folder loader, the server), naming the file, the tenant, the size and the
// limit; the last good state keeps serving, and every log the server wrote, it opens again.
import test, { type ExecutionContext } from 'ava';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { formatPolicyError, type TaiResource } from '../crds/index.ts';
import { PolicyCompiler } from '../governor/index.ts';
import { oversizePolicy } from '../governor/policy-fixtures.test-helper.ts';
import { checkEntitlementsReceipt, ENTITLEMENTS_RECEIPT_BUDGET } from '../recording/reconcile-size.ts';
import { EmbeddedPolicy } from './embedded-policy.ts';
import { folderFeed } from './embedded-feed.ts';
import { startServer } from './governor-server.ts';
import { validatePaths } from '../cli/validate.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');

async function folderWith(t: ExecutionContext, resources: readonly TaiResource[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-policy-size-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'policy.yaml'), resources.map((r) => stringify(r)).join('---\n'));
  return dir;
}

const TOO_LARGE = /policy\.yaml:\d+: spec: Tenant\/big: ReceiptTooLarge: tenant big: its entitlements make a reconcile receipt of (\d+) bytes; at most 32767 are allowed/;

test('tai validate refuses the 1.3 MB policy of five add-ons of 256 features of 1000 characters, naming file, tenant, size and limit', async (t) => {
  const dir = await folderWith(t, oversizePolicy());
  const { errors } = await validatePaths([dir], NOW);
  const lines = errors.map(formatPolicyError);
  const line = lines.find((l) => TOO_LARGE.test(l));
  t.truthy(line, lines.join('\n'));
  t.true(Number(TOO_LARGE.exec(line!)![1]) > 1_280_000, line);
  t.regex(line!, /65535/);
});

test('a policy just within the budget is valid', async (t) => {
  const dir = await folderWith(t, oversizePolicy({ addOns: 1, features: 20, chars: 1000 }));
  t.deepEqual((await validatePaths([dir], NOW)).errors, []);
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  compiler.apply({ upsert: oversizePolicy({ addOns: 1, features: 20, chars: 1000 }) }, NOW);
  t.truthy(compiler.snapshot.tenants.get('big'));
  t.true(ENTITLEMENTS_RECEIPT_BUDGET === 32_767);
});

test('the folder loader refuses the oversize change and keeps serving the last good entitlements', async (t) => {
  const small = oversizePolicy({ addOns: 5, features: 2, chars: 10 });
  const dir = await folderWith(t, small);
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  const policy = new EmbeddedPolicy({ dir, compiler, clock: { now: () => NOW } });
  t.deepEqual((await policy.load()).problems, []);
  const served = compiler.snapshot.tenants.get('big');
  t.truthy(served);
  await writeFile(join(dir, 'policy.yaml'), oversizePolicy().map((r) => stringify(r)).join('---\n'));
  const report = (await policy.reload())!;
  t.true(report.problems.some((p) => TOO_LARGE.test(p)), report.problems.join('\n'));
  t.is(compiler.snapshot.tenants.get('big'), served, 'the last good entitlements keep serving');
  t.like(policy.readiness(), { problems: 1 });
});

test('the server started on the oversize policy stops cleanly and starts again on the log it wrote', async (t) => {
  const dir = await folderWith(t, oversizePolicy());
  const logDir = await mkdtemp(join(tmpdir(), 'tai-policy-size-log-'));
  t.teardown(() => rm(logDir, { recursive: true, force: true }));
  const lines: string[] = [];
  const io = { out: (s: string) => lines.push(s), err: (s: string) => lines.push(s) };
  const start = () =>
    startServer({
      feed: folderFeed(dir),
      listen: { host: '127.0.0.1', port: 0 },
      logDir,
      keyPath: join(logDir, 'key'),
      origin: 'tai.test/policy-size',
      stateEvery: 1000,
      durability: 'sync',
      auth: { mode: 'none' },
      clock: { now: () => Date.now() },
      io,
    });
  const first = await start();
  t.true(lines.some((l) => /ReceiptTooLarge: tenant big/.test(l)), lines.join('\n'));
  const answer = await fetch(`${first.url}/readyz`);
  t.is(answer.status, 200);
  await first.stop();
  const second = await start();
  t.true(lines.some((l) => /receipt log .*: \d+ entries/.test(l)));
  await second.stop();
});

test('the receipt size the check computes is the size of the receipt the log writes', async (t) => {
  const { entitlementsReceiptBytes } = await import('../recording/reconcile-size.ts');
  const { effectiveDocument } = await import('../governor/index.ts');
  const { encodeReceipt, reconcileBody, zeroPrev } = await import('../receipts/index.ts');
  const compiler = new PolicyCompiler();
  compiler.apply({ upsert: oversizePolicy({ addOns: 2, features: 30, chars: 50 }) }, NOW);
  const big = compiler.snapshot.tenants.get('big')!;
  const body = reconcileBody({ resource: 'Tenant/big', generation: Number.MAX_SAFE_INTEGER, specDigest: '0'.repeat(64), patch: effectiveDocument(big) });
  const whole = encodeReceipt({ v: 1, kind: 'reconcile', index: Number.MAX_SAFE_INTEGER, time: Number.MAX_SAFE_INTEGER, prev: zeroPrev(), body }).length;
  t.is(entitlementsReceiptBytes('big', big), whole);
  t.is(entitlementsReceiptBytes('big', big), whole, 'again, from the kept lengths');
});
