// The dashboard at 100 000 tenants (issue 18): time to first byte and to the whole page of GET /ui/tenants (the
// first page, a page deep in the list, a search), beside a baseline of the same page's data as JSON from the same
// source in the same process: what rendering HTML costs over reading the governor.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { CompiledPolicy, Governor, PolicyCompiler } from '../../governor/index.ts';
import { DecisionRates } from '../../http/ui/decision-rates.ts';
import { PAGE_SIZE } from '../../http/ui/pages/tenants.ts';
import { uiApi } from '../../http/ui/ui-api.ts';
import type { Readiness } from '../../readiness/index.ts';
import { dashboardSource } from '../../server/dashboard-source.ts';
import type { PolicyFeed } from '../../server/policy-feed.ts';
import { BENCH_NOW, population, tenantName } from '../fixtures/population.ts';
import { median } from '../measure.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

const TENANTS = 100_000;

/** The dashboard on a compiled population, served by node:http as `tai serve` serves it, with the JSON baseline beside it. */
async function dashboardServer(): Promise<{ url: string; close: () => void }> {
  const clock = { now: () => BENCH_NOW };
  const compiler = new PolicyCompiler();
  const { skus, tenants, quotas } = population(TENANTS);
  compiler.apply({ upsert: [...skus, ...tenants, ...quotas] }, BENCH_NOW);
  const compiled = new CompiledPolicy(compiler);
  const governor = new Governor({ policy: compiled, clock });
  // Some usage, so the meters are not all empty.
  for (let i = 0; i < TENANTS; i += 7) governor.consume({ tenant: tenantName(i), metric: 'api-calls', amount: 1 + (i % 500) });
  const readiness = (): Readiness => ({ ready: true, generation: compiler.snapshot.generation, tenants: TENANTS, problems: 0, staleMs: 0, source: 'bench' });
  const feed = { readiness, problems: () => [] } as unknown as PolicyFeed;
  const source = dashboardSource({ compiler, compiled, decider: governor, feed, readiness, rates: new DecisionRates(), clock, logDir: '/nonexistent', log: () => ({ entries: 0, checkpointAgeSeconds: 0 }) });
  const app = new Hono();
  app.route('/ui', uiApi({ source, access: { sessionKey: new Uint8Array(32), secure: false, now: clock.now }, checkpoint: async () => undefined }));
  // The baseline: the same rows as JSON, from the same source — the page without its HTML.
  app.get('/bench/tenants.json', async (c) => {
    const page = Number(c.req.query('page') ?? 1);
    const needle = c.req.query('q') ?? '';
    const names = source.tenantNames().filter((n) => needle === '' || n.includes(needle));
    const rows = await Promise.all(
      names.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE).map(async (name) => {
        const t = source.tenant(name)!;
        return { name, sku: t.sku, suspended: t.suspended, usage: await source.usage(t) };
      }),
    );
    return c.json({ total: names.length, rows });
  });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((r) => server.once('listening', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

/** Median ms to the response's headers (first byte) and to its whole body, over `runs` sequential requests. */
async function timed(url: string, runs: number): Promise<{ firstByte: number; whole: number; bytes: number }> {
  const first: number[] = [];
  const whole: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    const res = await fetch(url);
    first.push(performance.now() - started);
    bytes = (await res.arrayBuffer()).byteLength;
    whole.push(performance.now() - started);
    if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  }
  return { firstByte: median(first), whole: median(whole), bytes };
}

export async function dashboardScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  log(`dashboard: compiling ${TENANTS} tenants`);
  const { url, close } = await dashboardServer();
  const runs = preset.name === 'full' ? 60 : 25;
  const figures: Figure[] = [];
  try {
    const views = [
      ['first page', 'page=1'],
      ['page 1000', 'page=1000'],
      ['search', `q=${tenantName(99_999).slice(0, -2)}`],
    ] as const;
    for (const [label, query] of views) {
      await timed(`${url}/ui/tenants?${query}`, 3); // warm-up
      await timed(`${url}/bench/tenants.json?${query}`, 3);
      const page = await timed(`${url}/ui/tenants?${query}`, runs);
      const json = await timed(`${url}/bench/tenants.json?${query}`, runs);
      log(`dashboard ${label}: html ${page.bytes} B, json ${json.bytes} B`);
      const base = { scenario: 'dashboard', tenants: TENANTS, unit: 'ms' };
      figures.push(figureOf({ ...base, name: `tenants page, ${label}: first byte`, value: page.firstByte, baseline: { name: 'the same rows as JSON: first byte', value: json.firstByte } }));
      figures.push(figureOf({ ...base, name: `tenants page, ${label}: whole page`, value: page.whole, baseline: { name: 'the same rows as JSON: whole body', value: json.whole } }));
    }
  } finally {
    close();
  }
  return figures;
}
