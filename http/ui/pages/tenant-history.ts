import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { TenantView } from '../../../ledger/index.ts';
import type { TenantHistory } from '../dashboard-source.ts';
import { count } from '../format.ts';

type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

/**
 * A tenant's history from the log, as the audit report reads it (ledger/): its recent decisions, its threshold
 * crossings (with the re-arm that explains a gauge's repeat) and its policy changes with their merge patches.
 */
export function historyBody(h: TenantHistory | undefined, tenant: string): Html {
  if (h === undefined) return html`<section aria-labelledby="history-h"><h2 id="history-h">History</h2><p>Nothing is published in the log yet.</p></section>`;
  const v = h.view;
  return html`<section aria-labelledby="history-h"><h2 id="history-h">History</h2>
<p class="muted">From the newest ${count(h.size - h.from)} of ${count(h.size)} published entries${h.from > 0 ? html`; all of it: <code>tai audit report --from LOG --tenant ${tenant}</code>` : ''}.</p>
${decisionsTable(v)}${crossingsTable(v)}${policyTable(v)}
</section>`;
}

function decisionsTable(v: TenantView): Html {
  const d = v.decisions;
  return html`<table class="history"><caption>Decisions: ${count(d.total)} (${count(d.allowed)} allowed, ${count(d.denied)} denied${d.peeks.total ? html`; ${count(d.peeks.total)} peeks apart` : ''}), the last ${d.recent.length}</caption>
<thead><tr><th scope="col">Entry</th><th scope="col">Time</th><th scope="col">Decision</th><th scope="col">Outcome</th><th scope="col">Usage</th></tr></thead>
<tbody>${d.recent.map(
    (r) => html`<tr><td>${r.index}</td><td>${r.time}</td><td>${r.op} ${r.subject}${r.amount !== undefined ? html` × ${count(r.amount)}` : ''}${r.peek ? ' (peek)' : ''}</td><td>${r.allowed ? 'allowed' : 'denied'} (${r.reason})</td><td>${r.used !== undefined && r.limit !== undefined ? `${count(r.used)} / ${count(r.limit)}` : ''}</td></tr>`,
  )}</tbody></table>`;
}

function crossingsTable(v: TenantView): Html | string {
  if (v.thresholds.total === 0) return html`<p>No threshold crossed.</p>`;
  return html`<table class="history"><caption>Threshold crossings: ${count(v.thresholds.total)}, the last ${v.thresholds.recent.length}</caption>
<thead><tr><th scope="col">Entry</th><th scope="col">Time</th><th scope="col">Metric</th><th scope="col">Threshold</th><th scope="col">Used</th><th scope="col">Re-armed</th></tr></thead>
<tbody>${v.thresholds.recent.map(
    (c) => html`<tr><td>${c.index}</td><td>${c.time}</td><td>${c.metric}</td><td>${c.threshold} %</td><td>${c.used !== undefined && c.limit !== undefined ? `${count(c.used)} / ${count(c.limit)} (${c.percent} %)` : `${c.percent} %`}</td><td>${c.rearmed ? `at entry ${c.rearmed.index}: usage fell to ${count(c.rearmed.used)} / ${count(c.rearmed.limit)}` : ''}</td></tr>`,
  )}</tbody></table>`;
}

function policyTable(v: TenantView): Html | string {
  if (v.policyHistory.total === 0) return html`<p>No policy change recorded.</p>`;
  return html`<table class="history"><caption>Policy changes: ${count(v.policyHistory.total)}, the last ${v.policyHistory.recent.length}</caption>
<thead><tr><th scope="col">Entry</th><th scope="col">Time</th><th scope="col">Generation</th><th scope="col">Merge patch (RFC 7396)</th></tr></thead>
<tbody>${v.policyHistory.recent.map(
    (p) => html`<tr><td>${p.index}</td><td>${p.time}</td><td>${p.generation}</td><td><details><summary>${p.patch === 'null' ? 'deleted' : 'changes'}</summary><pre>${p.patch}</pre></details></td></tr>`,
  )}</tbody></table>`;
}
