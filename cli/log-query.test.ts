import test from 'ava';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { entryBundlePath, toHex, type ChainedEntry } from '../receipts/index.ts';
import { AWKWARD_TENANT, FIXTURE_T0, fixtureLog, runTai, type FixtureLog } from '../test/support/log-fixture.ts';
import { CSV_COLUMNS, csvField } from './log-query.ts';
import { parseRfc3339Micros, rfc3339FromMicros } from './rfc3339.ts';

const SIZE = 600; // two full entry bundles and a partial one

let shared: Promise<FixtureLog> | undefined;
/** One published log for the read-only tests. */
function published(): Promise<FixtureLog> {
  shared ??= fixtureLog().then(async (log) => (await log.grow(SIZE).publish(), log));
  return shared;
}

/** RFC 4180 parsing, independent of csvField: quoted fields, "" for a quote. */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted && c === '"' && line[i + 1] === '"') {
      field += '"';
      i++;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(field);
      field = '';
    } else {
      field += c;
    }
  }
  return [...fields, field];
}

const indexes = (lines: string[]): number[] => lines.map((l) => (JSON.parse(l) as { index: number }).index);
const scan = (log: FixtureLog, pick: (e: ChainedEntry) => boolean): number[] => log.entries.filter(pick).map((e) => e.index);

test('query with no filter streams every entry as a JSON line, verified', async (t) => {
  const log = await published();
  const r = await runTai(['log', 'query', log.logDir]);
  t.is(r.code, 0, r.err.join('\n'));
  t.is(r.out.length, SIZE);
  const first = JSON.parse(r.out[0]!) as Record<string, unknown>;
  t.deepEqual(first, { index: 0, time: '2027-01-15T08:00:00.000000Z', kind: 'lifecycle', leafHash: toHex(log.entries[0]!.leafHash), body: { event: 'start', version: '0.1.0' } });
  const e7 = JSON.parse(r.out[7]!) as { time: string; body: Record<string, unknown> };
  t.is(e7.time, '2027-01-15T08:00:07.000000Z');
  t.like(e7.body, { tenant: 'initech', op: 'consume', allowed: true, used: 7 });
  t.deepEqual(r.err, [`✓ ${log.logDir}: ${SIZE} entries verified, ${SIZE} matched`]);
});

const filters: [string, string[], (e: ChainedEntry) => boolean][] = [
  ['tenant', ['--tenant', 'acme'], (e) => e.receipt.body.tenant === 'acme'],
  ['tenant with a comma and a quote', ['--tenant', AWKWARD_TENANT], (e) => e.receipt.body.tenant === AWKWARD_TENANT],
  ['kind', ['--kind', 'threshold'], (e) => e.receipt.kind === 'threshold'],
  ['outcome denied', ['--outcome', 'denied'], (e) => e.receipt.body.allowed === false],
  ['outcome allowed and tenant', ['--outcome', 'allowed', '--tenant', 'globex'], (e) => e.receipt.body.allowed === true && e.receipt.body.tenant === 'globex'],
  ['reason', ['--reason', 'QuotaExceeded'], (e) => e.receipt.body.reason === 'QuotaExceeded'],
  // since is inclusive, until exclusive: entry i is at T0 + i s
  ['since and until', ['--since', '2027-01-15T08:01:40Z', '--until', '2027-01-15T08:05:00Z'], (e) => e.index >= 100 && e.index < 300],
  // 09:09:58.999999+01:00 is T0 + 598.999999 s: only entry 599 is at or after it
  ['since with an offset and a fraction', ['--since', '2027-01-15T09:09:58.999999+01:00'], (e) => e.index === 599],
];
for (const [what, flags, pick] of filters) {
  test(`query --${what}: the same entries as a direct scan`, async (t) => {
    const log = await published();
    const r = await runTai(['log', 'query', log.logDir, ...flags]);
    t.is(r.code, 0, r.err.join('\n'));
    const want = scan(log, pick);
    t.deepEqual(indexes(r.out), want);
    t.regex(r.err.at(-1)!, new RegExp(`${SIZE} entries verified, ${want.length} matched$`));
  });
}

test('query --format csv: fixed columns, one row per match, RFC 4180 quoting', async (t) => {
  const log = await published();
  const r = await runTai(['log', 'query', log.logDir, '--format', 'csv', '--kind', 'decision']);
  t.is(r.code, 0, r.err.join('\n'));
  t.is(r.out[0], CSV_COLUMNS.join(','));
  const decisions = log.entries.filter((e) => e.receipt.kind === 'decision');
  t.is(r.out.length, decisions.length + 1);
  const awkward = decisions.find((e) => e.receipt.body.tenant === AWKWARD_TENANT)!;
  const line = r.out[decisions.indexOf(awkward) + 1]!;
  t.true(line.includes('"Acme, ""Intl"" Ltd"'), line);
  const fields = parseCsvLine(line);
  t.is(fields.length, CSV_COLUMNS.length);
  const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, fields[i]]));
  const b = awkward.receipt.body;
  t.deepEqual(row, {
    index: String(awkward.index),
    time: rfc3339FromMicros(awkward.receipt.time),
    kind: 'decision',
    tenant: AWKWARD_TENANT,
    op: 'consume',
    subject: 'api-calls',
    amount: '1',
    allowed: String(b.allowed),
    reason: String(b.reason),
    used: String(b.used),
    limit: '1000',
    leafHash: toHex(awkward.leafHash),
  });
});

test('csv fields: empty for missing, hex for bytes, quotes only where needed', (t) => {
  t.is(csvField(undefined), '');
  t.is(csvField(null), '');
  t.is(csvField(true), 'true');
  t.is(csvField(Uint8Array.of(0xab, 0x01)), 'ab01');
  t.is(csvField('plain text'), 'plain text');
  t.is(csvField('a\nb'), '"a\nb"');
  t.is(csvField('say "hi"'), '"say ""hi"""');
});

test('a threshold row names its metric as the subject', async (t) => {
  const log = await published();
  const r = await runTai(['log', 'query', log.logDir, '--format', 'csv', '--kind', 'threshold', '--tenant', 'acme']);
  t.is(r.code, 0);
  t.is(r.out.length, 1 + scan(log, (e) => e.receipt.kind === 'threshold' && e.receipt.body.tenant === 'acme').length);
  t.regex(r.out[1]!, /^100,2027-01-15T08:01:40\.000000Z,threshold,acme,,api-calls,,,,81,100,[0-9a-f]{64}$/);
});

const usageErrors: [string[], RegExp][] = [
  [['--outcome', 'maybe'], /--outcome: expected allowed or denied, got "maybe"/],
  [['--kind', 'decisions'], /--kind: expected one of decision, admission, reconcile, threshold, lifecycle, got "decisions"/],
  [['--since', 'yesterday'], /--since: "yesterday" is not an RFC 3339 date-time \(e\.g\. /],
  [['--since', '2027-02-29T00:00:00Z'], /--since: "2027-02-29T00:00:00Z": day 29 of 2027-02 is out of range/],
  [['--until', '2027-01-15T24:00:00Z'], /--until: .*hour 24 is out of range/],
  [['--until', '2027-01-15T08:00:00'], /--until: .* is not an RFC 3339 date-time/],
  [['--since', '2027-01-15T08:00:00Z', '--until', '2027-01-15T08:00:00Z'], /--since 2027-01-15T08:00:00Z is not before --until/],
  [['--format', 'xml'], /--format: expected jsonl or csv, got "xml"/],
  [['--tenant', ''], /--tenant: must not be empty/],
  [['--key', 'x'], /--key is not an option of tai log query/],
];
for (const [flags, message] of usageErrors) {
  test(`query ${flags.join(' ')} is a usage error`, async (t) => {
    const log = await published();
    const r = await runTai(['log', 'query', log.logDir, ...flags]);
    t.is(r.code, 2);
    t.regex(r.err.join('\n'), message);
    t.deepEqual(r.out, [], 'nothing streamed before the usage error');
  });
}

test('a defect mid-stream: only bundles whose tiles matched are printed, then the defect, exit 1', async (t) => {
  for (const [entry, defect] of [
    [300, /^✗ entry 30[01]: /], // caught by the next entry's prev link
    [511, /^✗ (entry 511|tile\/0\/001): /], // the last of its bundle: caught by its hash tile
  ] as const) {
    const log = await fixtureLog();
    await log.grow(SIZE).publish();
    const path = join(log.logDir, entryBundlePath({ index: 1 }));
    const bytes = new Uint8Array(await readFile(path));
    const before = log.entries.slice(256, entry).reduce((n, e) => n + 2 + e.bytes.length, 0);
    bytes[before + 2 + log.entries[entry]!.bytes.length - 3]! ^= 0x01; // near the end of the entry: in its body
    await writeFile(path, bytes);
    const r = await runTai(['log', 'query', log.logDir]);
    t.is(r.code, 1);
    t.deepEqual(indexes(r.out), Array.from({ length: 256 }, (_, i) => i), 'bundle 0 only: the tampered entry is never printed');
    t.regex(r.err[0]!, defect);
    t.regex(r.err.at(-1)!, /verification failed; the 256 lines printed are from earlier bundles/);
  }
});

test('a log signed by another key prints nothing and exits 1', async (t) => {
  const log = await published();
  const other = await fixtureLog({ seed: 9 });
  const r = await runTai(['log', 'query', log.logDir, '--vkey', other.verifierKey]);
  t.is(r.code, 1);
  t.deepEqual(r.out, []);
  t.regex(r.err[0]!, /^✗ checkpoint: not signed by the pinned key/);
});

test('RFC 3339: offsets, fractions, full-date; microseconds round trip', (t) => {
  t.is(parseRfc3339Micros('1970-01-01T00:00:01.5Z', '--since'), 1_500_000);
  t.is(parseRfc3339Micros('1970-01-01T01:00:00+01:00', '--since'), 0);
  t.is(parseRfc3339Micros('1969-12-31t19:00:00.000001-05:00', '--since'), 1);
  t.is(parseRfc3339Micros('2027-01-15', '--since'), parseRfc3339Micros('2027-01-15T00:00:00Z', '--since'));
  t.is(parseRfc3339Micros('2024-02-29T00:00:00.123456789Z', '--since'), Date.UTC(2024, 1, 29) * 1000 + 123_456);
  t.throws(() => parseRfc3339Micros('2027-01-15T23:59:60Z', '--until'), { message: /leap seconds/ });
  t.throws(() => parseRfc3339Micros('2027-01-15T08:00:00+24:00', '--until'), { message: /UTC offset \+24:00 is out of range/ });
  for (const us of [0, 1, 999, FIXTURE_T0 + 123_456, 1_700_000_000_000_001]) t.is(parseRfc3339Micros(rfc3339FromMicros(us), 'x'), us);
});
