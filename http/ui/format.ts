import { html } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { QuotaUsage } from './dashboard-source.ts';

const NUMBER = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return NUMBER.format(n);
}

export function seconds(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * A quota's usage as a <meter>, coloured by the browser at the quota's alert thresholds (green below the first,
 * amber from it, red from the second: 70/90 % by default), with its name and numbers as text, so it reads
 * without colour and prints.
 */
export function usageMeter(u: QuotaUsage): HtmlEscapedString | Promise<HtmlEscapedString> {
  if (u.unavailable) return html`<span class="muted">${u.metric}: counters unavailable</span>`;
  const [low, high] = [u.alertAt[0] ?? 70, u.alertAt[1] ?? 100].map((p) => (u.limit * p) / 100);
  const percent = u.limit > 0 ? Math.floor((u.used * 100) / u.limit) : u.used > 0 ? 100 : 0;
  const label = `${u.metric}: ${count(u.used)} of ${count(u.limit)} (${percent} %)`;
  return html`<span class="usage"><span class="metric">${u.metric}</span> <meter data-live-meter="${u.metric}" min="0" max="${Math.max(u.limit, 1)}" low="${low}" high="${high}" optimum="0" value="${Math.min(u.used, Math.max(u.limit, 1))}" aria-label="${label}"></meter> <span class="figures" data-live-field="usage:${u.metric}">${count(u.used)} / ${count(u.limit)}</span>${u.resetsAt ? html` <span class="muted">resets ${u.resetsAt}</span>` : ''}</span>`;
}
