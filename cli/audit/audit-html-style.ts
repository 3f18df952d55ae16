// The report's only stylesheet, inlined in the page: screen and print (A4, repeated table heads, rows kept
// whole, no scroll boxes, so printing to PDF from any browser gives the whole report).

export const AUDIT_REPORT_CSS = `
:root { --ink: #1b1f24; --muted: #5b6470; --line: #d6dbe1; --ok: #1a7f37; --bad: #b42318; --band: #f3f5f7; }
* { box-sizing: border-box; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 1100px; padding: 24px 32px 48px; color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); break-after: avoid; }
h3 { font-size: 15px; margin: 16px 0 6px; break-after: avoid; }
p { margin: 6px 0; }
.muted, .lead { color: var(--muted); }
code, .hash, pre { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
.hash { overflow-wrap: anywhere; word-break: break-all; }
pre { margin: 4px 0 0; padding: 6px 8px; background: var(--band); border-radius: 4px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
.verdict { margin: 16px 0; padding: 10px 14px; border-left: 6px solid var(--ok); background: #eef8f0; break-inside: avoid; }
.verdict strong { color: var(--ok); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: 8px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; break-inside: avoid; }
.card .n { display: block; font-size: 20px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 8px; }
thead { display: table-header-group; }
tfoot { display: table-footer-group; }
tr { break-inside: avoid; page-break-inside: avoid; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { width: 190px; background: none; }
table.counts { table-layout: fixed; }
table.counts col.key { width: 34%; }
table.counts col.n { width: 14%; }
table.counts col.share { width: 24%; }
table.counts td:first-child { overflow-wrap: anywhere; }
.bar { display: inline-block; width: 120px; height: 10px; background: #f6d5d1; border-radius: 2px; vertical-align: middle; }
.bar > span { display: block; height: 100%; background: var(--ok); border-radius: 2px; }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.none { color: var(--muted); font-style: italic; }
.more { color: var(--muted); font-size: 13px; }
.change, .proof { border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; margin: 8px 0; break-inside: avoid; }
.proof ol { margin: 4px 0 0; padding-left: 28px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { size: A4; margin: 16mm 14mm 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  h2 { margin-top: 18px; }
  .cards { grid-template-columns: repeat(4, 1fr); }
  code, .hash, pre { font-size: 8.5pt; }
  table.kv th { width: 120px; }
  .bar { width: 60px; }
  a { color: inherit; text-decoration: none; }
  .change, .proof, .verdict, table.kv { break-inside: avoid; }
}
`;
