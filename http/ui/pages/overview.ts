import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DashboardSource, DecisionRate } from '../dashboard-source.ts';
import { count, seconds } from '../format.ts';
import { RATE_INTERVAL_MS } from '../decision-rates.ts';

const perSecond = (n: number): string => (n / (RATE_INTERVAL_MS / 1000)).toFixed(1);
const total = (rates: readonly DecisionRate[], outcome: 'allowed' | 'denied'): number => rates.reduce((n, r) => n + r[outcome], 0);
/** Intervals the table shows: the last two minutes (the five-minute totals sit above it). */
const SHOWN_INTERVALS = 12;

/** The overview: the served policy, its problems, the decisions of the last minutes, the log, anchoring, counters. */
export function overviewBody(source: DashboardSource): HtmlEscapedString | Promise<HtmlEscapedString> {
  const p = source.policy();
  const r = source.readiness();
  const log = source.log();
  const problems = source.problems();
  const rates = source.decisions();
  return html`<section aria-labelledby="policy-h"><h2 id="policy-h">Policy</h2>
<dl class="facts">
<dt>Generation</dt><dd data-live-field="generation">${p.generation}</dd>
<dt>Source</dt><dd>${p.source}</dd>
<dt>Tenants</dt><dd data-live-field="tenants">${count(p.tenants)}</dd>
<dt>SKUs</dt><dd>${count(p.skus)}</dd>
<dt>Quotas</dt><dd>${count(p.quotas)}</dd>
<dt>Status</dt><dd>${r.ready ? 'serving' : 'not ready'}${r.staleMs > 0 ? html` (source stale for ${seconds(r.staleMs / 1000)})` : ''}</dd>
</dl>
${problems.length === 0 ? html`<p>No problems: every resource compiled.</p>` : html`<h3>Problems (${problems.length})</h3><ul class="problems">${problems.map((m) => html`<li><code>${m}</code></li>`)}</ul>`}
</section>
<section aria-labelledby="decisions-h"><h2 id="decisions-h">Decisions</h2>
<p>Last five minutes: ${count(total(rates, 'allowed'))} allowed, ${count(total(rates, 'denied'))} denied.</p>
<table class="rates"><caption>Decisions answered per second, by outcome, over each 10 s interval of the last two minutes, newest first (UTC)</caption>
<thead><tr><th scope="col">Interval ending</th><th scope="col">Allowed per second</th><th scope="col">Denied per second</th></tr></thead>
<tbody>${rates.slice(-SHOWN_INTERVALS).reverse().map((d) => html`<tr><td>${new Date(d.at).toISOString().slice(11, 19)}</td><td>${perSecond(d.allowed)}</td><td>${perSecond(d.denied)}</td></tr>`)}</tbody>
</table>
<p>Last interval: <span data-live-field="lastRate">${rates.length ? `${count(rates.at(-1)!.allowed)} allowed, ${count(rates.at(-1)!.denied)} denied` : 'none yet'}</span></p></section>
<section aria-labelledby="log-h"><h2 id="log-h">Receipt log</h2>
<dl class="facts">
<dt>Entries</dt><dd data-live-field="entries">${count(log.entries)}</dd>
<dt>Checkpoint age</dt><dd data-live-field="checkpointAge">${seconds(log.checkpointAgeSeconds)}</dd>
<dt>Writable</dt><dd>${r.log?.writable === false ? html`no: ${r.log.error}` : 'yes'}</dd>
${r.anchor ? html`<dt>Anchored size</dt><dd>${count(r.anchor.anchoredSize)} in ${r.anchor.location}</dd><dt>Anchor lag</dt><dd>${count(r.anchor.lagEntries)} entries, ${seconds(r.anchor.lagSeconds)}</dd>` : html`<dt>Anchoring</dt><dd>not configured (--gcs)</dd>`}
${r.counters ? html`<dt>Shared counters</dt><dd>${r.counters.connected ? 'connected' : 'unreachable'}, ${r.counters.state}, ${r.counters.latencyMs} ms</dd>` : ''}
</dl></section>`;
}
