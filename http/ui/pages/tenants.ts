import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { DashboardSource, QuotaUsage } from '../dashboard-source.ts';
import { count, usageMeter } from '../format.ts';

/** Tenants a page shows. */
export const PAGE_SIZE = 50;

export interface TenantsQuery {
  /** Part of a tenant's name, any case. */
  search: string;
  /** From 1. */
  page: number;
}

/** The page of tenants matching `q`, in name order: the names are one sorted array, so a page costs its rows. */
export async function tenantsBody(source: DashboardSource, q: TenantsQuery): Promise<HtmlEscapedString> {
  const names = source.tenantNames();
  const needle = q.search.toLowerCase();
  const matching = needle === '' ? names : names.filter((n) => n.toLowerCase().includes(needle));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const page = Math.min(Math.max(1, q.page), pages);
  const rows = await Promise.all(
    matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(async (name) => {
      const t = source.tenant(name);
      return t === undefined ? undefined : { t, usage: await source.usage(t) };
    }),
  );
  const link = (p: number): string => `/ui/tenants?${new URLSearchParams({ ...(q.search && { q: q.search }), page: String(p) }).toString()}`;
  return html`<form role="search" method="get" action="/ui/tenants" class="search">
<label for="q">Find a tenant</label> <input id="q" name="q" type="search" value="${q.search}" autocomplete="off"> <button type="submit">Search</button>
</form>
<p>${count(matching.length)} of ${count(names.length)} tenants${q.search ? html` matching “${q.search}”` : ''}; page ${page} of ${pages}.</p>
<table class="tenants"><caption class="visually-hidden">Tenants, their plan and usage</caption>
<thead><tr><th scope="col">Tenant</th><th scope="col">SKU</th><th scope="col">Suspended</th><th scope="col">Usage</th></tr></thead>
<tbody>${rows.map((r) => (r === undefined ? '' : html`<tr><th scope="row"><a href="/ui/tenants/${encodeURIComponent(r.t.name)}">${r.t.name}</a></th><td>${r.t.sku}</td><td>${r.t.suspended ? 'yes' : 'no'}</td><td>${usageList(r.usage)}</td></tr>`))}</tbody>
</table>
<nav aria-label="Pages" class="pager">${page > 1 ? html`<a href="${link(page - 1)}" rel="prev">Previous</a>` : ''} ${page < pages ? html`<a href="${link(page + 1)}" rel="next">Next</a>` : ''}</nav>`;
}

function usageList(usage: QuotaUsage[]): HtmlEscapedString | Promise<HtmlEscapedString> | string {
  if (usage.length === 0) return 'no quotas';
  return html`<ul class="usage-list">${usage.map((u) => html`<li>${usageMeter(u)}</li>`)}</ul>`;
}
