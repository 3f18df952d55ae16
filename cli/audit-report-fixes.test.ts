// What issue 18 saw in the audit report, each fixed: a gauge's repeated crossing unexplained, "Used" without the
// limit, embedded mode's "generation 0", a peek counted as a denial, an unknown name listed as a tenant, and
// relative key paths in the printed commands.
import test from 'ava';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative } from 'node:path';
import { gaugeItems } from '../ledger/ledger.test-helper.ts';
import { reconcileBody } from '../receipts/index.ts';
import { fixtureLog, runTai, type FixtureLog } from '../test/support/log-fixture.ts';
import { shellWords } from '../test/support/audit.ts';
import type { AuditReport } from './audit/index.ts';

/** The gauge log, then a policy change as embedded mode recorded it before it had a generation (entry 9). */
async function gaugeFixture(): Promise<FixtureLog> {
  const items = [...gaugeItems(), { kind: 'reconcile' as const, body: reconcileBody({ resource: 'Tenant/acme', generation: 0, specDigest: '00'.repeat(32), patch: { features: { sso: true } } }) }];
  const log = await fixtureLog();
  await log.grow(items.length, (i) => items[i]!).publish();
  return log;
}

async function reports(log: FixtureLog, flags: string[] = []): Promise<{ json: AuditReport; page: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-audit-fixes-'));
  const out = join(dir, 'report.html');
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--out', out, ...flags]);
  if (r.code !== 0) throw new Error(r.err.join('\n'));
  const j = await runTai(['audit', 'report', '--from', log.logDir, '--json', ...flags]);
  return { json: JSON.parse(j.out.join('\n')) as AuditReport, page: await readFile(out, 'utf8') };
}

test('a gauge crossing 100 % again shows the consume that re-armed it, and used / limit', async (t) => {
  const { json, page } = await reports(await gaugeFixture());
  t.deepEqual(json.thresholds.shown.map((c) => [c.index, c.used, c.limit, c.rearmed?.index]), [[1, 10, 10, undefined], [4, 10, 10, 2]]);
  t.true(page.includes('<td class="num">10 / 10 (100%)</td>'), 'used / limit (percent)');
  t.regex(page, /<td data-rearmed="2">after entry 2 \([^)]+\) let usage fall to 5 \/ 10<\/td>/);
  t.regex(page, /re-arms a threshold when usage falls 5 points below it/);
});

test('a policy change recorded with generation 0 is not labelled "generation 0"', async (t) => {
  const { page } = await reports(await gaugeFixture());
  t.notRegex(page, /generation 0/);
  t.regex(page, /acme · generation not recorded · entry 9/);
  t.regex(page, /acme · generation 2 · entry 7/);
});

test('a peek at a full quota is counted apart, not as a denied decision', async (t) => {
  const { json, page } = await reports(await gaugeFixture());
  t.like(json.decisions, { total: 5, allowed: 3, denied: 2, peeks: { total: 1, allowed: 0, denied: 1 } });
  t.true(json.decisions.byReason.some((r) => r.key === 'QuotaExceeded' && r.total === 1));
  t.regex(page, /data-count="peeks">1<\/span> peeks \(consumes of amount 0/);
  t.false('peeks' in json.admissions);
});

test('a name that is no tenant is listed apart from the tenants', async (t) => {
  const { json, page } = await reports(await gaugeFixture());
  t.deepEqual(json.decisions.byTenant.map((r) => r.key), ['acme']);
  t.deepEqual(json.decisions.unknownTenants, [{ key: 'nobody', total: 1, allowed: 0, denied: 1 }]);
  t.notRegex(page, /data-tenant="nobody"/);
  t.regex(page, /<h3>Unknown tenants asked<\/h3>[^]*<tr data-unknown-tenant="nobody"><td>nobody<\/td>/);
});

test('a --vkey FILE given relative is printed absolute in every command', async (t) => {
  const log = await gaugeFixture();
  const file = join(await mkdtemp(join(tmpdir(), 'tai-vkey-')), 'log.pub');
  await writeFile(file, `${log.verifierKey}\n`);
  const { json, page } = await reports(log, ['--vkey', relative(process.cwd(), file)]);
  t.is(json.scope.vkey, file);
  for (const query of [json.decisions.query, json.thresholds.query, json.policyChanges.query, json.lifecycle.query]) {
    const { words } = shellWords(query);
    const vkey = words[words.indexOf('--vkey') + 1]!;
    t.true(isAbsolute(vkey), query);
  }
  t.true(page.includes(`--vkey ${file}`));
  const literal = await reports(log, ['--vkey', log.verifierKey]);
  t.is(literal.json.scope.vkey, log.verifierKey, 'a key string is kept as given');
});
