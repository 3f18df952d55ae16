/**
 * Anchoring under load: a real `tai serve --from config/samples --gcs …` process anchoring to fake-gcs-server
 * through the real client while autocannon offers 5 000 consume decisions per second (each one a receipt, sync
 * durability). /readyz is sampled every 250 ms for the anchor lag. Baselines: the offered decision rate (what
 * anchoring must keep up with) and the anchor interval (the lag a healthy anchorer is expected to stay near).
 * The server's own event-loop delay (bench/load/loop-delay-probe.ts) during the load, beside the same server's
 * idle for a few seconds before it (issue 19: no stall over 10 ms while the log is anchored).
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { gcsDown, gcsUp } from '../../test/support/gcs.ts';
import { startChildServer, type ChildServer } from '../child-server.ts';
import { median, percentile } from '../measure.ts';
import type { LoopDelay } from '../load/loop-delay-probe.ts';
import type { Preset } from '../presets.ts';
import { figureOf, type Figure } from '../types.ts';

const RATE = 5000;
const INTERVAL_S = 10;
const IDLE_MS = 3000;

interface AnchorSample {
  at: number;
  lagSeconds: number;
  lagEntries: number;
  anchoredSize: number;
  lastPass?: { entries: number; objects: number; seconds: number };
}

export async function anchorLagScenario(preset: Preset, log: (line: string) => void): Promise<Figure[]> {
  const seconds = preset.name === 'full' ? 120 : 40;
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-anchor-'));
  const gcs = await gcsUp(join(dir, 'gcs'), { backend: 'memory' });
  await gcs.storage().createBucket('bench-anchors');
  await cp('config/samples', join(dir, 'policy'), { recursive: true });
  const args = ['--from', join(dir, 'policy'), '--listen', '127.0.0.1:0', '--log', join(dir, 'log'), '--key', join(dir, 'key'), '--gcs', 'gs://bench-anchors/b', '--gcs-endpoint', gcs.url];
  let server: ChildServer | undefined;
  try {
    server = await startChildServer(['cli/tai.ts', 'serve', ...args], undefined, { stderr: 'ignore', loopDelay: true });
    const { url } = server;
    await server.resetLoopDelay();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const idle = await server.readLoopDelay();
    await server.resetLoopDelay();
    log(`anchor-lag: ${RATE} consume/s for ${seconds} s against ${url}, anchoring every ${INTERVAL_S} s to fake-gcs-server`);
    const samples: AnchorSample[] = [];
    const sampler = setInterval(() => void sample(url).then((s) => samples.push(s), () => undefined), 250);
    const load = await autocannon({ url: `${url}/v1/consume`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount: 1 }), connections: 50, overallRate: RATE, duration: seconds });
    const loaded = await server.readLoopDelay();
    const drained = await drain(url);
    clearInterval(sampler);
    log(`anchor-lag: ${Math.round(load.requests.average)} decisions/s answered (${load.non2xx} non-2xx), drained ${drained.toFixed(1)} s after the load`);
    return [...figures({ samples, answered: load.requests.average, drained }), ...loopFigures(idle, loaded)];
  } finally {
    await server?.stop();
    await gcsDown(gcs, true);
    await rm(dir, { recursive: true, force: true });
  }
}

function figures(m: { samples: AnchorSample[]; answered: number; drained: number }): Figure[] {
  const lags = m.samples.map((s) => s.lagSeconds);
  const passes = distinctPasses(m.samples);
  const entriesPerSecond = passes.map((p) => p.entries / Math.max(p.seconds, 1e-3));
  const objectsPerSecond = passes.map((p) => p.objects / Math.max(p.seconds, 1e-3));
  const common = { scenario: 'anchor-lag', tenants: 6 };
  const interval = { name: `the anchor interval (${INTERVAL_S} s)`, value: INTERVAL_S };
  const offered = { name: `decisions offered (${RATE}/s)`, value: RATE };
  const lagTarget = { op: '<=', value: INTERVAL_S + 5, unit: 's', source: 'keeps up: one interval plus a pass' } as const;
  return [
    figureOf({ ...common, name: 'decisions answered during anchoring', value: Math.round(m.answered), unit: 'decisions/s', baseline: offered }),
    figureOf({ ...common, name: 'anchor lag (oldest unanchored entry), p50', value: Number(median(lags).toFixed(2)), unit: 's', baseline: interval, samples: lags }),
    figureOf({ ...common, name: 'anchor lag, p99', value: Number(percentile(lags, 99).toFixed(2)), unit: 's', baseline: interval, target: lagTarget }),
    figureOf({ ...common, name: 'anchor lag, max', value: Number(Math.max(...lags).toFixed(2)), unit: 's', baseline: interval }),
    figureOf({ ...common, name: 'anchor throughput while a pass runs', value: Math.round(median(entriesPerSecond)), unit: 'entries/s', baseline: offered, samples: entriesPerSecond, note: `${passes.length} passes; median ${median(passes.map((p) => p.seconds)).toFixed(2)} s each` }),
    figureOf({ ...common, name: 'objects created per second while a pass runs', value: Math.round(median(objectsPerSecond)), unit: 'objects/s', baseline: { name: 'objects the offered load makes (2 per 256 entries)', value: Math.round((RATE * 2) / 256) } }),
    figureOf({ ...common, name: 'drain after the load stops', value: Number(m.drained.toFixed(2)), unit: 's', baseline: interval }),
  ];
}

function loopFigures(idle: LoopDelay, loaded: LoopDelay): Figure[] {
  const common = { scenario: 'anchor-lag', tenants: 6, unit: 'ms', note: "the server's own event loop (monitorEventLoopDelay, 1 ms resolution)" };
  const baseline = (value: number): { name: string; value: number } => ({ name: `the same server idle for ${IDLE_MS / 1000} s before the load`, value });
  return [
    figureOf({ ...common, name: `event-loop delay max, ${RATE} consume/s while anchoring`, value: loaded.maxMs, baseline: baseline(idle.maxMs), target: { op: '<=', value: 10, unit: 'ms', source: 'issue 19: no stall over 10 ms' } }),
    figureOf({ ...common, name: `event-loop delay p99, ${RATE} consume/s while anchoring`, value: loaded.p99Ms, baseline: baseline(idle.p99Ms) }),
  ];
}

/** Each pass once (consecutive samples repeat the last pass until the next one ends). */
function distinctPasses(samples: AnchorSample[]): { entries: number; objects: number; seconds: number }[] {
  const passes: { entries: number; objects: number; seconds: number }[] = [];
  let lastSize = -1;
  for (const s of samples) {
    if (s.lastPass && s.anchoredSize !== lastSize && s.lastPass.entries > 1000) passes.push(s.lastPass);
    lastSize = s.anchoredSize;
  }
  return passes;
}

async function sample(url: string): Promise<AnchorSample> {
  const ready = (await (await fetch(`${url}/readyz`)).json()) as { anchor: Omit<AnchorSample, 'at'> };
  return { at: performance.now(), ...ready.anchor };
}

/** Seconds until the bucket holds every durable entry, once the load has stopped. */
async function drain(url: string): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await sample(url)).lagEntries === 0) return (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
}

