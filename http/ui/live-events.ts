import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { DashboardSource } from './dashboard-source.ts';
import { count, seconds } from './format.ts';

/** How often an open page is sent fresh figures (the bound: at most every second). */
export const LIVE_EVERY_MS = 1000;

/** What one event carries: text for each `data-live-field`, and values for each `data-live-meter`. */
export interface LiveUpdate {
  fields: Record<string, string>;
  meters: Record<string, number>;
}

/**
 * Server-Sent Events for an open page (`?tenant=NAME` for a tenant's page, else the overview): an `update` event a
 * second with the figures the page shows. The stream ends when the tab closes (the request aborts), and its timer
 * with it.
 */
export function liveEvents(c: Context, source: DashboardSource): Response {
  const tenant = c.req.query('tenant');
  return streamSSE(c, async (stream) => {
    let open = true;
    stream.onAbort(() => {
      open = false;
    });
    while (open) {
      const update = tenant === undefined ? overviewUpdate(source) : await tenantUpdate(source, tenant);
      await stream.writeSSE({ event: 'update', data: JSON.stringify(update) });
      await stream.sleep(LIVE_EVERY_MS);
    }
  });
}

function overviewUpdate(source: DashboardSource): LiveUpdate {
  const p = source.policy();
  const log = source.log();
  const last = source.decisions().at(-1);
  return {
    fields: {
      generation: String(p.generation),
      tenants: count(p.tenants),
      entries: count(log.entries),
      checkpointAge: seconds(log.checkpointAgeSeconds),
      ...(last && { lastRate: `${count(last.allowed)} allowed, ${count(last.denied)} denied` }),
    },
    meters: {},
  };
}

async function tenantUpdate(source: DashboardSource, name: string): Promise<LiveUpdate> {
  const t = source.tenant(name);
  if (t === undefined) return { fields: {}, meters: {} };
  const usage = await source.usage(t);
  return {
    fields: Object.fromEntries(usage.map((u) => [`usage:${u.metric}`, `${count(u.used)} / ${count(u.limit)}`])),
    meters: Object.fromEntries(usage.map((u) => [u.metric, Math.min(u.used, Math.max(u.limit, 1))])),
  };
}
