import test from 'ava';
import { AuditFold } from '../../ledger/index.ts';
import { renderAuditHtml } from './audit-html.ts';
import { TOP_ROWS } from './audit-html-sections.ts';
import { buildAuditReport, type AuditReportInput } from './audit-model.ts';
import { ReceiptChain, decisionBody } from '../../receipts/index.ts';

const ROOT = 'ab'.repeat(32);

function report(over: Partial<AuditReportInput> & { tenants?: number } = {}): string {
  const fold = new AuditFold({ filter: {} });
  const chain = new ReceiptChain();
  for (let i = 0; i < (over.tenants ?? 0) * 2; i++) {
    fold.add(chain.append('decision', decisionBody({ tenant: `t${String(i % (over.tenants ?? 1)).padStart(3, '0')}`, op: 'check', subject: 's', allowed: i % 2 === 0, reason: 'Allowed' }), 1_000_000 * i));
  }
  const input: AuditReportInput = { scope: { location: 'log' }, tally: fold.tally(), checkpoint: { origin: 'o', size: chain.size, root: ROOT }, signedBy: 'o+01020304', samples: [], generatedAt: '2027-01-01T00:00:00.000Z', ...over };
  return renderAuditHtml(buildAuditReport(input));
}

test('anchors given to the model are rendered, by size', (t) => {
  const page = report({ anchors: [{ size: 200, root: 'cd'.repeat(32) }, { size: 100, root: ROOT, storedAt: '2027-01-01T00:00:01Z', lagSeconds: 3 }] });
  const rows = [...page.matchAll(/<tr><td class="num">([\d,]+)<\/td><td class="hash">([0-9a-f]+)<\/td><td>([^<]*)<\/td><td class="num">([^<]*)<\/td><\/tr>/g)].map((m) => m.slice(1));
  t.deepEqual(rows, [
    ['100', ROOT, '2027-01-01T00:00:01Z', '3 s'],
    ['200', 'cd'.repeat(32), '—', '—'],
  ]);
  t.regex(report(), /No bucket was given: report with --from gs:\/\/… or --anchored-against gs:\/\/… to check and list the anchors\./);
});

test('tenant tables show the top rows and say how to list the rest', (t) => {
  const page = report({ tenants: TOP_ROWS + 7 });
  t.is([...page.matchAll(/<tr data-tenant="/g)].length, TOP_ROWS);
  t.regex(page, /and 7 more tenants \(14 receipts\) — use <code>tai log query log --kind decision --format csv<\/code>/);
});

test('an empty log renders with every section saying so', (t) => {
  const page = report();
  for (const what of ['decisions', 'admission reviews', 'usage thresholds crossed', 'policy changes', 'entries in scope to sample']) t.regex(page, new RegExp(`No ${what} in scope|No ${what}`));
  t.regex(page, /no entries in the time range/);
  t.regex(page, /none: the log is empty/);
});
