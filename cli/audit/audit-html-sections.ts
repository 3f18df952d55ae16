// The report's sections below the summary, as HTML. Counts carry data-count attributes (and rows data-tenant
// or data-reason) so a test reads the rendered numbers from the DOM. Pure; every log string goes through html``.
import type { CappedList, CountRow, LifecycleEvent, OutcomeBreakdown, PolicyChange, SampleProof, ThresholdCrossing } from './audit-model.ts';
import { GAUGE_HYSTERESIS_PERCENT } from '../../governor/index.ts';
import { html, type Html } from './html.ts';

/** Rows of a counts table shown before "and N more". */
export const TOP_ROWS = 25;

/** 1234567 → "1,234,567" (fixed, not the machine's locale). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The same column widths in every counts table, so they line up down the page. */
const COLUMNS = html`<colgroup><col class="key"><col class="n"><col class="n"><col class="n"><col class="share"></colgroup>`;

const count = (name: string, n: number): Html => html`<td class="num" data-count="${name}">${formatCount(n)}</td>`;

function share(row: { total: number; allowed: number }): Html {
  const pct = row.total === 0 ? 0 : Math.round((1000 * row.allowed) / row.total) / 10;
  return html`<td><span class="bar" title="${pct}% allowed"><span style="width: ${pct}%"></span></span> ${pct}%</td>`;
}

function countRow(row: CountRow, by: 'tenant' | 'reason'): Html {
  const label = row.key === null ? html`<span class="none">no ${by}</span>` : row.key;
  const attr = row.key === null ? html`data-no-${by}` : by === 'tenant' ? html`data-tenant="${row.key}"` : html`data-reason="${row.key}"`;
  return html`<tr ${attr}><td>${label}</td>${count('total', row.total)}${count('allowed', row.allowed)}${count('denied', row.denied)}${share(row)}</tr>`;
}

function countTable(c: { rows: CountRow[]; by: 'tenant' | 'reason'; query: string }): Html {
  const shown = c.rows.slice(0, TOP_ROWS);
  const rest = c.rows.slice(TOP_ROWS);
  const restTotal = rest.reduce((n, r) => n + r.total, 0);
  const more = rest.length === 0 ? '' : html`<p class="more">and ${formatCount(rest.length)} more ${c.by}s (${formatCount(restTotal)} receipts) — use <code>${c.query} --format csv</code></p>`;
  return html`<table class="counts" data-by="${c.by}">${COLUMNS}
<thead><tr><th>${c.by === 'tenant' ? 'Tenant' : 'Reason'}</th><th class="num">Total</th><th class="num">Allowed</th><th class="num">Denied</th><th>Allowed share</th></tr></thead>
<tbody>${shown.map((r) => countRow(r, c.by))}</tbody></table>${more}`;
}

/** Decisions or admissions: totals by outcome, then top tenants and reasons. */
export function outcomeSection(s: { id: string; title: string; what: string; data: OutcomeBreakdown }): Html {
  const { data } = s;
  const body =
    data.total === 0
      ? html`<p class="none">No ${s.what} in scope.</p>`
      : html`<table class="counts" data-by="outcome">${COLUMNS}<thead><tr><th>All ${s.what}</th><th class="num">Total</th><th class="num">Allowed</th><th class="num">Denied</th><th>Allowed share</th></tr></thead>
<tbody><tr data-outcome-total><td>in scope</td>${count('total', data.total)}${count('allowed', data.allowed)}${count('denied', data.denied)}${share(data)}</tr></tbody></table>
<h3>By tenant</h3>${countTable({ rows: data.byTenant, by: 'tenant', query: data.query })}
<h3>By reason</h3>${countTable({ rows: data.byReason, by: 'reason', query: data.query })}`;
  return html`<section id="${s.id}"><h2>${s.title}</h2><p class="lead">Every entry listed by <code>${data.query}</code>, counted${data.peeks ? ', peeks apart' : ''}.</p>${body}${peeks(data)}${unknownTenants(data)}</section>`;
}

/** Consumes of amount 0 read usage and change nothing: one at a full quota answers allowed: false but refused nothing. */
function peeks(data: OutcomeBreakdown): Html | string {
  const p = data.peeks;
  if (p === undefined) return '';
  return html`<p class="more" data-peeks="${p.total}">Not counted above: <span data-count="peeks">${formatCount(p.total)}</span> peeks (consumes of amount 0, which read usage and change nothing), <span data-count="peeks-full">${formatCount(p.denied)}</span> of them at a full quota (recorded allowed: false).</p>`;
}

/** Names asked about that are no tenant: counted in the totals and under their reason, listed apart from the tenants. */
function unknownTenants(data: OutcomeBreakdown): Html | string {
  const rows = data.unknownTenants;
  if (rows === undefined) return '';
  const shown = rows.slice(0, TOP_ROWS);
  const more = rows.length > TOP_ROWS ? html`<p class="more">and ${formatCount(rows.length - TOP_ROWS)} more — use <code>${data.query} --reason UnknownTenant</code></p>` : '';
  const row = (r: CountRow): Html => html`<tr data-unknown-tenant="${r.key ?? ''}"><td>${r.key ?? ''}</td>${count('total', r.total)}</tr>`;
  return html`<h3>Unknown tenants asked</h3><p class="lead">Names that are no tenant of the policy (reason UnknownTenant), not listed among the tenants.</p>
<table class="counts" data-by="unknown-tenant"><thead><tr><th>Name asked</th><th class="num">Decisions</th></tr></thead><tbody>${shown.map(row)}</tbody></table>${more}`;
}

/** An entry's index; in a deployment's report, with the origin of the log it indexes. */
function entryCell(e: { index: number; origin?: string | undefined }): string {
  return e.origin === undefined ? String(e.index) : `${e.index} of ${e.origin}`;
}

function moreLine<T>(list: CappedList<T>): Html | string {
  const more = list.total - list.shown.length;
  return more <= 0 ? '' : html`<p class="more" data-more="${more}">and ${formatCount(more)} more — use <code>${list.query}</code></p>`;
}

function listIntro<T>(list: CappedList<T>, what: string): Html {
  if (list.total === 0) return html`<p class="none">No ${what} in scope.</p>`;
  return html`<p class="lead"><span data-count="total">${formatCount(list.total)}</span> ${what}${list.total > list.shown.length ? html`; the first ${formatCount(list.shown.length)} in log order` : ''}.</p>`;
}

/** Used / limit (percent) as the receipt records them; the percent alone for a receipt without them. */
function usedCell(t: ThresholdCrossing): string {
  return t.used === undefined || t.limit === undefined ? `${t.percent}%` : `${formatCount(t.used)} / ${formatCount(t.limit)} (${t.percent}%)`;
}

/** A gauge's threshold fires again only once usage fell back and re-armed it: the consume that did. */
function rearmCell(t: ThresholdCrossing): Html | string {
  const r = t.rearmed;
  if (r === undefined) return html`<td></td>`;
  return html`<td data-rearmed="${r.index}">after entry ${r.index} (${r.time}) let usage fall to ${formatCount(r.used)} / ${formatCount(r.limit)}</td>`;
}

export function thresholdSection(list: CappedList<ThresholdCrossing>): Html {
  const row = (t: ThresholdCrossing): Html =>
    html`<tr><td>${t.time}</td><td>${t.tenant}</td><td>${t.metric}</td><td class="num">${t.threshold}%</td><td class="num">${usedCell(t)}</td>${rearmCell(t)}<td class="num">${entryCell(t)}</td></tr>`;
  const table =
    list.shown.length === 0
      ? ''
      : html`<table><thead><tr><th>Time (UTC)</th><th>Tenant</th><th>Metric</th><th class="num">Threshold</th><th class="num">Used / limit</th><th>Re-armed</th><th class="num">Entry</th></tr></thead><tbody>${list.shown.map(row)}</tbody></table>`;
  const lead = html`<p class="muted">A threshold fires once per window; a gauge (no window) re-arms a threshold when usage falls ${GAUGE_HYSTERESIS_PERCENT} points below it, so it can fire again: the Re-armed column names the consume that let it.</p>`;
  return html`<section id="thresholds"><h2>Threshold crossings</h2>${listIntro(list, 'usage thresholds crossed')}${list.total === 0 ? '' : lead}${table}${moreLine(list)}</section>`;
}

/**
 * The receipt's generation (docs/receipts.md §3): 0 means the resource is gone, so a change that is no deletion
 * with 0 comes from a log of embedded mode before it recorded the policy generation: say so, not "generation 0".
 */
function generationText(c: PolicyChange): string {
  if (c.generation > 0) return `generation ${c.generation}`;
  return c.patch === 'null' ? 'resource gone' : 'generation not recorded';
}

export function policySection(list: CappedList<PolicyChange>): Html {
  const change = (c: PolicyChange): Html => html`<div class="change" data-index="${c.index}">
<p><strong>${c.time}</strong> · ${c.tenant ?? c.resource} · ${generationText(c)} · entry ${entryCell(c)}${c.patch === 'null' ? html` · <span class="bad">deleted</span>` : ''}</p>
<pre>${c.patch}</pre></div>`;
  return html`<section id="policy-changes"><h2>Policy changes</h2>
<p class="lead">Each change of a tenant's effective entitlements as an RFC 7396 merge patch; replaying a tenant's patches in order from <code>{}</code> gives its entitlements.</p>
${listIntro(list, 'policy changes')}${list.shown.map(change)}${moreLine(list)}</section>`;
}

export function lifecycleSection(list: CappedList<LifecycleEvent>): Html {
  const row = (l: LifecycleEvent): Html => html`<tr><td>${l.time}</td><td>${l.event}</td><td>${l.version}</td><td class="num">${entryCell(l)}</td></tr>`;
  const table = list.shown.length === 0 ? '' : html`<table><thead><tr><th>Time (UTC)</th><th>Event</th><th>Version</th><th class="num">Entry</th></tr></thead><tbody>${list.shown.map(row)}</tbody></table>`;
  return html`<section id="lifecycle"><h2>Governor lifecycle</h2>${listIntro(list, 'starts and stops (of the whole governor, whatever the tenant)')}${table}${moreLine(list)}</section>`;
}

export function proofSection(samples: SampleProof[], location: string): Html {
  const proof = (p: SampleProof): Html => html`<div class="proof" data-index="${p.index}">
<p><strong>Entry ${entryCell(p)}</strong> (${p.kind}, ${p.time}) ${p.verified ? html`<span class="ok">✓ verified</span>` : html`<span class="bad">✗ not verified</span>`} against the root of ${formatCount(p.treeSize)} entries</p>
<table class="kv"><tbody><tr><th>Leaf hash</th><td class="hash">${p.leafHash}</td></tr><tr><th>Root</th><td class="hash">${p.root}</td></tr></tbody></table>
<p class="muted">Audit path (RFC 9162 §2.1.3), lowest node first:</p>
${p.path.length === 0 ? html`<p class="none">empty: the tree has one entry</p>` : html`<ol>${p.path.map((h) => html`<li class="hash">${h}</li>`)}</ol>`}</div>`;
  const intro =
    samples.length === 0
      ? html`<p class="none">No entries in scope to sample.</p>`
      : html`<p class="lead">Entries in scope, evenly spaced, each proven to be in the tree the checkpoint signs: hashing its leaf hash with the path as RFC 9162 §2.1.3.2 says gives the root. The log's operator can issue a signed RFC 9942 receipt for any entry with <code>tai log proof INDEX --log ${location}</code>, which <code>tai log verify-receipt</code> checks offline.</p>`;
  return html`<section id="proofs"><h2>Sample inclusion proofs</h2>${intro}${samples.map(proof)}</section>`;
}
