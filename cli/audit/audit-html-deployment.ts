// The sections of a deployment's report (several logs as one): its logs with the successions between them, and
// usage per counter across them. Pure; every string goes through html``.
import { formatCount } from './audit-html-sections.ts';
import type { Deployment, DeploymentLog, UsageRow } from './audit-model.ts';
import { html, type Html } from './html.ts';

/** Usage rows shown; the JSON form has all of them. */
export const USAGE_ROWS = 200;

function logRow(l: DeploymentLog): Html {
  const p = l.predecessor;
  const succeeds = p === undefined ? html`<span class="none">—</span>` : html`${p.origin} at ${formatCount(p.size)} <span class="ok">✓</span>`;
  return html`<tr data-origin="${l.origin}"><td>${l.origin}</td><td><code>${l.location}</code></td><td class="num" data-count="size">${formatCount(l.size)}</td><td class="hash">${l.root}</td><td><code>${l.signedBy}</code></td><td>${succeeds}</td></tr>`;
}

/** The logs, each verified as alone, and each recorded succession checked against its predecessor's log. */
export function deploymentSection(d: Deployment): Html {
  return html`<section id="coverage"><h2>Coverage and integrity: ${formatCount(d.logs.length)} logs</h2>
<p class="lead">Each log was verified as a report of it alone would verify it: every entry, every hash tile, the Merkle root against its signed checkpoint. A log whose first entry names the log it succeeds found that log here, holding the recorded checkpoint (the root recomputed from its tiles): no log of the chain is missing.</p>
<table><thead><tr><th>Origin</th><th>Read from</th><th class="num">Entries</th><th>Merkle root</th><th>Signed by</th><th>Succeeds</th></tr></thead><tbody>${d.logs.map(logRow)}</tbody></table></section>`;
}

function usageRow(u: UsageRow): Html {
  const window = u.windowStart === null ? html`<span class="none">none</span>` : new Date(u.windowStart).toISOString();
  const match = u.allowedAmount === u.highestUsed ? html`<span class="ok">=</span>` : html`<span class="bad">≠</span>`;
  return html`<tr data-tenant="${u.tenant}" data-metric="${u.metric}"><td>${u.tenant}</td><td>${u.metric}</td><td>${window}</td><td class="num" data-count="used">${formatCount(u.highestUsed)}</td><td class="num">${formatCount(u.limit)}</td><td>${u.origin}</td><td class="num" data-count="allowed-amount">${formatCount(u.allowedAmount)} ${match}</td></tr>`;
}

/** Per counter and window: the highest `used` any log recorded, beside the allowed amounts of every log. */
export function usageSection(d: Deployment): Html {
  const shown = d.usage.slice(0, USAGE_ROWS);
  const more = d.usage.length - shown.length;
  const body =
    d.usage.length === 0
      ? html`<p class="none">No consumes or threshold crossings in scope.</p>`
      : html`<table><thead><tr><th>Tenant</th><th>Metric</th><th>Window start (UTC)</th><th class="num">Highest used</th><th class="num">Limit</th><th>Recorded by</th><th class="num">Allowed amounts</th></tr></thead><tbody>${shown.map(usageRow)}</tbody></table>${more > 0 ? html`<p class="more">and ${formatCount(more)} more counters — use --json</p>` : ''}`;
  return html`<section id="usage"><h2>Usage per counter</h2>
<p class="lead">With counters shared among the replicas, each allowed consume's receipt records the shared counter after it: the counter's total in a window is the highest <em>used</em> any log recorded there. The allowed amounts of every log's consumes add up to it (=) unless usage came from elsewhere: a gauge set, a release, or a log not given (≠).</p>${body}</section>`;
}
