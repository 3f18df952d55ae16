import test from 'ava';
import { access, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decisionBody, entryBundlePath, fromHex, reconcileBody, verifyInclusion, type ChainedEntry } from '../receipts/index.ts';
import { AUDIT_REPORT_FORMAT, type AuditReport } from './audit/index.ts';
import { AWKWARD_TENANT, FIXTURE_T0, fixtureLog, mixedFixtureEntry, runTai, type FixtureLog } from '../test/support/log-fixture.ts';
import { rfc3339FromMicros } from './rfc3339.ts';
import { countsOf, queriedBreakdown, queryCount, shellWords } from '../test/support/audit.ts';

const SIZE = 4000; // > 50 threshold crossings and > 20 policy changes: both lists are cut

let shared: Promise<FixtureLog> | undefined;
/** One published log with every kind of receipt, for the read-only tests. */
function published(): Promise<FixtureLog> {
  shared ??= fixtureLog().then(async (log) => (await log.grow(SIZE, mixedFixtureEntry).publish(), log));
  return shared;
}

async function outDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tai-audit-'));
}

async function jsonReport(log: FixtureLog, flags: string[] = []): Promise<AuditReport> {
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--json', ...flags]);
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.err.join('\n')}`);
  return JSON.parse(r.out.join('\n')) as AuditReport;
}

const at = (seconds: number): string => rfc3339FromMicros(FIXTURE_T0 + seconds * 1_000_000);
const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

test('the JSON report: its shape, the checkpoint it verified, no gaps', async (t) => {
  const log = await published();
  const r = await jsonReport(log);
  t.is(r.format, AUDIT_REPORT_FORMAT);
  t.deepEqual(Object.keys(r), ['format', 'generatedAt', 'scope', 'coverage', 'anchors', 'decisions', 'admissions', 'thresholds', 'policyChanges', 'lifecycle', 'samples']);
  t.deepEqual(r.scope, { location: log.logDir });
  t.deepEqual(r.coverage, {
    origin: log.origin,
    size: SIZE,
    root: (await runTai(['log', 'verify', log.logDir, '--json'])).out.join('\n').match(/"root": "([0-9a-f]{64})"/)![1]!,
    signedBy: log.verifierKey.split('+').slice(0, 2).join('+'),
    rootVerified: true,
    contiguous: true,
    range: { first: 0, last: SIZE - 1, entries: SIZE, firstTime: at(0), lastTime: at(SIZE - 1) },
  });
  t.deepEqual(r.anchors, []);
  t.deepEqual(Object.keys(r.decisions.byTenant[0]!), ['key', 'total', 'allowed', 'denied']);
  t.is(r.thresholds.shown.length, 50);
  t.like(r.thresholds.shown[0], { index: 50, time: at(50), tenant: 'Acme, "Intl" Ltd', metric: 'api-calls', threshold: 80, percent: 81 });
  t.is(r.policyChanges.shown.length, 20);
  t.like(r.policyChanges.shown[0], { index: 5, tenant: 'globex', resource: 'Tenant/globex', generation: 1 });
  t.deepEqual(JSON.parse(r.policyChanges.shown[0]!.patch), { quotas: { 'api-calls': { limit: 1005 } }, features: { sso: false, ratio: '0.5', 'max-projects': 5 } });
  t.deepEqual(r.lifecycle.shown.slice(0, 3), [
    { index: 0, time: at(0), event: 'start', version: '0.1.0' },
    { index: 999, time: at(999), event: 'stop', version: '0.1.0' },
    { index: 1000, time: at(1000), event: 'start', version: '0.1.0' },
  ]);
});

test('counts by tenant, outcome and reason are what tai log query prints for the same filters', async (t) => {
  const log = await published();
  const r = await jsonReport(log);
  for (const [kind, section] of [['decision', r.decisions], ['admission', r.admissions]] as const) {
    t.true(section.total > 0);
    t.deepEqual(countsOf(section), await queriedBreakdown({ logDir: log.logDir, base: ['--kind', kind], tenantFlags: [], breakdown: section }), kind);
  }
  t.true(r.admissions.byTenant.some((row) => row.key === null), 'admissions of objects outside any tenant are a row of their own');
  t.is(r.thresholds.total, await queryCount(log.logDir, ['--kind', 'threshold']));
  t.is(r.policyChanges.total, await queryCount(log.logDir, ['--kind', 'reconcile']));
  t.is(r.lifecycle.total, await queryCount(log.logDir, ['--kind', 'lifecycle']));
  t.is(r.decisions.total + r.admissions.total + r.thresholds.total + r.policyChanges.total + r.lifecycle.total, SIZE, 'every entry in one section');
});

test('--since, --until and --tenant: the same entries as tai log query with those flags', async (t) => {
  const log = await published();
  const scope = ['--since', at(700), '--until', '2027-01-15T08:40:00+00:00'];
  const r = await jsonReport(log, [...scope, '--tenant', AWKWARD_TENANT]);
  t.deepEqual(r.scope, { location: log.logDir, tenant: AWKWARD_TENANT, since: at(700), until: '2027-01-15T08:40:00+00:00' });
  t.like(r.coverage.range, { first: 700, last: 2399, entries: 1700, firstTime: at(700), lastTime: at(2399) });
  t.deepEqual(r.decisions.byTenant.map((row) => row.key), [AWKWARD_TENANT]);
  for (const [kind, section] of [['decision', r.decisions], ['admission', r.admissions]] as const) {
    t.deepEqual(countsOf(section), await queriedBreakdown({ logDir: log.logDir, base: ['--kind', kind, ...scope], tenantFlags: ['--tenant', AWKWARD_TENANT], breakdown: section }));
  }
  t.is(r.thresholds.total, await queryCount(log.logDir, ['--kind', 'threshold', '--tenant', AWKWARD_TENANT, ...scope]));
  t.true(r.thresholds.shown.every((x) => x.tenant === AWKWARD_TENANT && x.index >= 700 && x.index < 2400));
  // reconcile receipts name the tenant as Tenant/<name>: a direct scan of the log
  const changes = log.entries.filter((e) => e.receipt.kind === 'reconcile' && e.index >= 700 && e.index < 2400 && e.receipt.body.resource === `Tenant/${AWKWARD_TENANT}`);
  t.deepEqual(r.policyChanges.shown.map((c) => c.index), changes.map((e) => e.index));
  t.true(changes.length > 0);
  t.is(r.lifecycle.total, await queryCount(log.logDir, ['--kind', 'lifecycle', ...scope]), 'lifecycle events are the whole governor’s: the tenant does not filter them');
});

test('every "and N more" command lists exactly the entries of its section', async (t) => {
  const log = await published();
  for (const flags of [[], ['--tenant', AWKWARD_TENANT, '--since', at(100)]]) {
    const r = await jsonReport(log, flags);
    for (const list of [r.thresholds, r.policyChanges, r.lifecycle]) {
      const { words, pipe } = shellWords(list.query);
      t.deepEqual(words.slice(0, 4), ['tai', 'log', 'query', log.logDir]);
      const q = await runTai(words.slice(1));
      t.is(q.code, 0, q.err.join('\n'));
      // the reconcile command pipes to jq to keep one tenant's resource: apply the same select here
      const select = pipe === undefined ? undefined : /^jq -c 'select\(\.body\.resource == (".*")\)'$/.exec(pipe);
      const lines = select ? q.out.filter((l) => (JSON.parse(l) as { body: { resource: string } }).body.resource === JSON.parse(select[1]!)) : q.out;
      t.is(pipe === undefined || select !== null, true, `unexpected pipe ${pipe}`);
      t.is(lines.length, list.total, list.query);
      t.deepEqual(lines.slice(0, list.shown.length).map((l) => (JSON.parse(l) as { index: number }).index), list.shown.map((s) => s.index));
    }
  }
});

test('sample inclusion proofs: evenly spaced over the entries in scope, each verifies against the checkpoint', async (t) => {
  const log = await published();
  const r = await jsonReport(log, ['--tenant', 'acme']);
  t.is(r.samples.length, 5);
  const inScope = (e: ChainedEntry): boolean => e.receipt.body.tenant === 'acme' || e.receipt.body.resource === 'Tenant/acme' || e.receipt.kind === 'lifecycle';
  const scoped = log.entries.filter(inScope).map((e) => e.index);
  t.is(r.samples[0]!.index, scoped[0]!);
  t.is(r.samples.at(-1)!.index, scoped.at(-1)!);
  const positions = r.samples.map((s) => scoped.indexOf(s.index));
  const gaps = positions.slice(1).map((p, i) => p - positions[i]!);
  // the sampler keeps every k-th entry in scope (k doubles as the log grows), so spacing is even within k
  t.true(Math.max(...gaps) - Math.min(...gaps) <= Math.ceil(scoped.length / 128), `even spacing: ${gaps.join(', ')} of ${scoped.length}`);
  for (const s of r.samples) {
    t.true(s.verified);
    t.is(s.treeSize, SIZE);
    t.is(s.root, r.coverage.root);
    t.notThrows(() => verifyInclusion({ index: s.index, size: SIZE, leafHash: fromHex(s.leafHash), proof: s.path.map(fromHex), root: fromHex(s.root) }));
    t.deepEqual(fromHex(s.leafHash), log.entries[s.index]!.leafHash);
  }
});

test('HTML: written to --out with a one-line summary; print rules; self-contained', async (t) => {
  const log = await published();
  const out = join(await outDir(), 'report.html');
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--out', out]);
  t.is(r.code, 0, r.err.join('\n'));
  t.is(r.out.length, 1);
  t.regex(r.out[0]!, new RegExp(`^✓ ${out}: 4,000 entries verified \\(root [0-9a-f]{16}…\\); [\\d,]+ decisions \\([\\d,]+ denied\\), .*5 inclusion proofs checked, in [\\d.]+ s$`));
  const page = await readFile(out, 'utf8');
  t.regex(page, /^<!doctype html>/);
  for (const rule of ['@media print', '@page', 'break-inside: avoid', 'thead { display: table-header-group; }']) t.true(page.includes(rule), rule);
  t.notRegex(page, /<script|<link|<img|<iframe|\bsrc=|url\(|@import|overflow:\s*(auto|scroll)|max-height/i, 'no scripts, no external assets, no scroll boxes');
  for (const kind of ['threshold', 'reconcile']) t.regex(page, new RegExp(`and [\\d,]+ more — use <code>tai log query \\S+ --kind ${kind}</code>`));
});

test('HTML escapes every string from the log and the command line', async (t) => {
  const log = await fixtureLog();
  const evil = '<script>alert("x")'; // no "/": it is also a Tenant/<name> resource
  await log
    .grow(40, (i) => {
      if (i === 3) return { kind: 'reconcile', body: reconcileBody({ resource: `Tenant/${evil}`, generation: 1, specDigest: '00'.repeat(32), patch: { features: { '<b>': '</pre><img src=x>' } } }) };
      const tenant = [evil, AWKWARD_TENANT, "O'Brien & Sons"][i % 3]!;
      return { kind: 'decision', body: decisionBody({ tenant, op: 'check', subject: 'sso', allowed: i % 2 === 0, reason: i % 2 === 0 ? 'Allowed' : '<Denied>' }) };
    })
    .publish();
  const out = join(await outDir(), 'report.html');
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--out', out, '--tenant', evil]);
  t.is(r.code, 0, r.err.join('\n'));
  const page = await readFile(out, 'utf8');
  t.notRegex(page, /<script|<img|<b>|<\/pre><img|<Denied>/);
  t.true(page.includes('data-tenant="&lt;script&gt;alert(&quot;x&quot;)"'));
  t.true(page.includes('&lt;Denied&gt;'));
  t.true(page.includes('&quot;&lt;b&gt;&quot;: &quot;&lt;/pre&gt;&lt;img src=x&gt;&quot;'), 'the patch, as text');
  const other = join(await outDir(), 'all.html');
  t.is((await runTai(['audit', 'report', '--from', log.logDir, '--out', other])).code, 0);
  const all = await readFile(other, 'utf8');
  t.true(all.includes('data-tenant="Acme, &quot;Intl&quot; Ltd"'));
  t.true(all.includes('<td>O&#39;Brien &amp; Sons</td>'));
});

test('a tampered log: exit 1, the defects as tai log verify prints them, no report written', async (t) => {
  const log = await fixtureLog();
  await log.grow(600, mixedFixtureEntry).publish();
  const path = join(log.logDir, entryBundlePath({ index: 1 }));
  const bytes = new Uint8Array(await readFile(path));
  const before = log.entries.slice(256, 300).reduce((n, e) => n + 2 + e.bytes.length, 0);
  bytes[before + 2 + log.entries[300]!.bytes.length - 3]! ^= 0x01; // inside entry 300's body
  await writeFile(path, bytes);
  const dir = await outDir();
  for (const flags of [['--out', join(dir, 'report.html')], ['--json', '--out', join(dir, 'report.json')], ['--json']]) {
    const r = await runTai(['audit', 'report', '--from', log.logDir, ...flags]);
    t.is(r.code, 1);
    t.deepEqual(r.out, []);
    const verify = await runTai(['log', 'verify', log.logDir]);
    t.deepEqual(r.err.slice(0, -1), verify.err);
    t.regex(r.err[0]!, /^✗ entry 30[01]: /);
    t.is(r.err.at(-1), `✗ ${log.logDir}: verification failed: no report written`);
  }
  t.false(await exists(join(dir, 'report.html')));
  t.false(await exists(join(dir, 'report.json')));
});

test('a log signed by another key: exit 1, nothing written', async (t) => {
  const log = await published();
  const other = await fixtureLog({ seed: 9 });
  const out = join(await outDir(), 'report.html');
  const r = await runTai(['audit', 'report', '--from', log.logDir, '--vkey', other.verifierKey, '--out', out]);
  t.is(r.code, 1);
  t.regex(r.err[0]!, /^✗ checkpoint: not signed by the pinned key/);
  t.false(await exists(out));
});

test('usage errors exit 2 naming the flag; --help exits 0', async (t) => {
  const log = await published();
  const cases: [string[], RegExp][] = [
    [['audit', 'report'], /--from DIR\|URL\|gs:\/\/… is required/],
    [['audit'], /expected an audit command: report/],
    [['audit', 'summary', '--from', log.logDir], /unknown audit command "summary"/],
    [['audit', 'report', log.logDir], /takes no arguments \(the log is --from\)/],
    [['audit', 'report', '--from', log.logDir, '--since', 'yesterday'], /--since: "yesterday" is not an RFC 3339 date-time/],
    [['audit', 'report', '--from', log.logDir, '--since', '2027-01-16', '--until', '2027-01-15'], /is not before --until/],
    [['audit', 'report', '--from', log.logDir, '--tenant', ''], /--tenant: must not be empty/],
    [['audit', 'report', '--from', log.logDir, '--kind', 'decision'], /Unknown option '--kind'/],
    [['audit', 'report', '--from', 'ftp://example/log'], /unsupported log location|--vkey/],
  ];
  for (const [argv, message] of cases) {
    const r = await runTai(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.err.join('\n'), message);
    t.regex(r.err.join('\n'), /Usage: tai audit report --from/);
  }
  const help = await runTai(['audit', 'report', '--help']);
  t.is(help.code, 0);
  t.regex(help.out.join('\n'), /^Usage: tai audit report --from DIR\|URL\|gs:\/\/BUCKET\/PREFIX/);
  t.regex((await runTai(['--help'])).out.join('\n'), /\n {2}audit {6}an auditor's report/);
});
