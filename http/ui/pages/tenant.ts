import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import { explainTenant, type CompiledTenant } from '../../../governor/index.ts';
import type { DashboardSource } from '../dashboard-source.ts';
import { usageMeter } from '../format.ts';
import { historyBody } from './tenant-history.ts';

/** One tenant: its plan, every entitlement with where it came from, and its usage now. */
export async function tenantBody(source: DashboardSource, tenant: CompiledTenant): Promise<HtmlEscapedString> {
  const e = explainTenant(tenant);
  const [usage, history] = await Promise.all([source.usage(tenant), source.history(tenant.name)]);
  const table = (caption: string, entries: Record<string, { explain: string }>): HtmlEscapedString | Promise<HtmlEscapedString> | string =>
    Object.keys(entries).length === 0
      ? ''
      : html`<table class="entitlements"><caption>${caption}</caption><thead><tr><th scope="col">Name</th><th scope="col">Value and where it came from</th></tr></thead>
<tbody>${Object.entries(entries).map(([k, v]) => html`<tr><th scope="row">${k}</th><td>${v.explain}</td></tr>`)}</tbody></table>`;
  return html`<dl class="facts"><dt>SKU</dt><dd>${e.sku}</dd><dt>Suspended</dt><dd>${e.suspended ? 'yes' : 'no'}</dd><dt>Policy digest</dt><dd><code>${e.digest}</code></dd></dl>
<section aria-labelledby="usage-h"><h2 id="usage-h">Usage</h2>
${usage.length === 0 ? html`<p>No quotas.</p>` : html`<ul class="usage-list">${usage.map((u) => html`<li>${usageMeter(u)}</li>`)}</ul>`}
</section>
<section aria-labelledby="ent-h"><h2 id="ent-h">Entitlements</h2>
${table('Features', e.features)}${table('Quotas', e.quotas)}${table('Rates', e.rates)}${table('Resource caps', e.resources)}
</section>
${historyBody(history, tenant.name)}`;
}
