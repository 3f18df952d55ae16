/**
 * The log's other jobs at 1M entries, with the event loop's delay recorded (issue 19: no stall over 10 ms while
 * checkpoints are signed, tiles published, the log anchored). A LogPublisher resumed at 1M entries (its tile edge
 * and tree built from 1M real decision receipts) takes 5 000 entries a round, as a second of 5 000 decisions/s
 * leaves them, then publishes: tiles written whole and a signed checkpoint; then an Anchorer anchors the new tiles
 * and checkpoint twice: into a bucket in memory (the anchorer's own work on the loop) and through the real GCS
 * client into fake-gcs-server (hack/gcs-up.sh; the client's work too). Baseline in the same run: the same loop
 * idle.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decisionBody, generateNoteKey, parseSignerKey, ReceiptChain, signCheckpoint, type ReceiptBody } from '../../receipts/index.ts';
import { CompactRange } from '../../receipts/compact-range.ts';
import { TileBuilder } from '../../receipts/tile-builder.ts';
import { Anchorer, type AnchorBucket } from '../../receipts/anchor/index.ts';
import { LogPublisher } from '../../receipts/store/index.ts';
import { gcsBucket } from '../../server/gcs-storage.ts';
import { gcsDown, gcsUp } from '../../test/support/gcs.ts';
import { median } from '../measure.ts';
import { figureOf, type Figure } from '../types.ts';
import { watched, type Save } from '../watched-loop.ts';

const LOG_SIZE = 1_000_000;
const PER_ROUND = 5_000;
const ORIGIN = 'bench.tai.example/stalls';
const T0_MICROS = Date.parse('2026-11-15T12:00:00Z') * 1000;
const TARGET = { op: '<=', value: 10, unit: 'ms', source: 'issue 19 (no stall over 10 ms)' } as const;

/** Consume decisions as the decision API records them; every 8th with an idempotency key. */
const bodyAt = (i: number): ReceiptBody =>
  decisionBody({ tenant: `tenant-${i % 1000}`, op: 'consume', subject: 'api-calls', amount: 1, allowed: true, reason: 'Allowed', used: i, limit: 10_000_000, windowStart: 1_764_547_200_000, resetsAt: '2026-12-31T00:00:00Z', ...(i % 8 === 0 && { idempotencyKey: `request-${i}` }) });

export async function publishStalls(runs: number, log: (line: string) => void): Promise<Figure[]> {
  const rounds = runs * 4;
  const dir = await mkdtemp(join(tmpdir(), 'tai-bench-publish-'));
  const gcs = await gcsUp(join(dir, 'gcs'), { backend: 'memory' });
  try {
    await gcs.storage().createBucket('bench-stalls');
    const started = performance.now();
    const { chain, publisher } = await resumedAt(dir);
    log(`publish-stalls: a publisher at ${LOG_SIZE} entries in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const anchorer = await anchoredAt(dir, 'memory', memoryBucket());
    const toGcs = await anchoredAt(dir, 'gcs', gcsBucket('gs://bench-stalls/log', gcs.url));
    const m = { publish: [] as Save[], anchor: [] as Save[], gcs: [] as Save[], idle: [] as Save[], signMs: [] as number[] };
    for (let round = 0; round < rounds; round++) {
      await appendRound(chain, publisher, LOG_SIZE + round * PER_ROUND);
      m.publish.push(await watched(() => publisher.publish()));
      m.anchor.push(await watched(() => anchorer.anchorOnce()));
      m.gcs.push(await watched(() => toGcs.anchorOnce()));
      m.idle.push(await watched(() => new Promise((resolve) => setTimeout(resolve, 50))));
    }
    const signer = parseSignerKey(generateNoteKey(ORIGIN, new Uint8Array(32).fill(3)).signerKey);
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      signCheckpoint({ origin: ORIGIN, size: LOG_SIZE + i, root: chain.root() }, signer);
      m.signMs.push(performance.now() - t);
    }
    const ms = (xs: Save[], k: 'maxMs' | 'cpuMaxMs' = 'maxMs'): string => xs.map((x) => x[k].toFixed(1)).join(', ');
    log(`publish-stalls: longest stall per round: publish ${ms(m.publish)} ms; anchor pass ${ms(m.anchor)} ms (to fake-gcs-server: ${ms(m.gcs)} ms); idle ${ms(m.idle)} ms; most main-thread CPU between two turns: publish ${ms(m.publish, 'cpuMaxMs')} ms, anchor pass ${ms(m.anchor, 'cpuMaxMs')} ms (to fake-gcs-server: ${ms(m.gcs, 'cpuMaxMs')} ms), idle ${ms(m.idle, 'cpuMaxMs')} ms; checkpoint sign median ${median(m.signMs).toFixed(3)} ms, max ${Math.max(...m.signMs).toFixed(3)} ms`);
    return figures(m, rounds);
  } finally {
    await gcsDown(gcs, true);
    await rm(dir, { recursive: true, force: true });
  }
}

/** An anchorer of the published log that has anchored its first 1M entries already (the files before are not there). */
async function anchoredAt(dir: string, name: string, bucket: AnchorBucket): Promise<Anchorer> {
  const statePath = join(dir, name, 'anchor.json');
  await mkdir(join(dir, name), { recursive: true });
  await writeFile(statePath, JSON.stringify({ anchoredSize: LOG_SIZE }));
  return Anchorer.open({ logDir: join(dir, 'log'), bucket, now: Date.now, statePath });
}

function figures(m: { publish: Save[]; anchor: Save[]; gcs: Save[]; idle: Save[]; signMs: number[] }, rounds: number): Figure[] {
  const common = { scenario: 'state-save', tenants: 1000, unit: 'ms' };
  const worst = (saves: Save[], k: 'maxMs' | 'p99Ms' | 'cpuMaxMs'): number => Math.max(...saves.map((s) => s[k]));
  const idle = (k: 'maxMs' | 'p99Ms' | 'cpuMaxMs'): { name: string; value: number } => ({ name: 'the same loop idle, 50 ms a round', value: worst(m.idle, k) });
  const note = `a log of ${LOG_SIZE} entries, ${PER_ROUND} new a round (a second at 5 000 decisions/s); worst of ${rounds} rounds`;
  return [
    figureOf({ ...common, name: 'tile publish + checkpoint sign at 1M entries: longest event-loop stall', value: worst(m.publish, 'maxMs'), baseline: idle('maxMs'), target: TARGET, note, samples: m.publish.map((s) => s.maxMs) }),
    figureOf({ ...common, name: 'tile publish + checkpoint sign at 1M entries: event-loop delay p99', value: worst(m.publish, 'p99Ms'), baseline: idle('p99Ms'), note }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (bucket in memory): longest event-loop stall', value: worst(m.anchor, 'maxMs'), baseline: idle('maxMs'), target: TARGET, note: `${note}; the anchorer's own work`, samples: m.anchor.map((s) => s.maxMs) }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (bucket in memory): event-loop delay p99', value: worst(m.anchor, 'p99Ms'), baseline: idle('p99Ms'), note }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (GCS client, fake-gcs-server): longest event-loop stall', value: worst(m.gcs, 'maxMs'), baseline: idle('maxMs'), target: TARGET, note, samples: m.gcs.map((s) => s.maxMs) }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (GCS client, fake-gcs-server): event-loop delay p99', value: worst(m.gcs, 'p99Ms'), baseline: idle('p99Ms'), note }),
    figureOf({ ...common, name: 'tile publish + checkpoint sign at 1M entries: most main-thread CPU between two loop turns', value: worst(m.publish, 'cpuMaxMs'), baseline: idle('cpuMaxMs'), target: TARGET, note, samples: m.publish.map((s) => s.cpuMaxMs) }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (bucket in memory): most main-thread CPU between two loop turns', value: worst(m.anchor, 'cpuMaxMs'), baseline: idle('cpuMaxMs'), target: TARGET, note, samples: m.anchor.map((s) => s.cpuMaxMs) }),
    figureOf({ ...common, name: 'anchor pass at 1M entries (GCS client, fake-gcs-server): most main-thread CPU between two loop turns', value: worst(m.gcs, 'cpuMaxMs'), baseline: idle('cpuMaxMs'), target: TARGET, note, samples: m.gcs.map((s) => s.cpuMaxMs) }),
    figureOf({ ...common, name: 'checkpoint sign (Ed25519 note), one call: longest', value: Math.max(...m.signMs), baseline: { name: 'median call', value: median(m.signMs) }, target: TARGET, note: '200 calls, synchronous' }),
  ];
}

/** A round's entries, handed to the publisher 500 at a time as group commits hand them over. */
async function appendRound(chain: ReceiptChain, publisher: LogPublisher, first: number): Promise<void> {
  for (let i = 0; i < PER_ROUND; i++) {
    publisher.add(chain.append('decision', bodyAt(first + i), T0_MICROS));
    if (i % 500 === 499) await nextTurn();
  }
}

/** A publisher as a server's is after 1M entries: its tile edge and tree built from them, the files before not written. */
async function resumedAt(dir: string): Promise<{ chain: ReceiptChain; publisher: LogPublisher }> {
  const chain = new ReceiptChain();
  const tiles = new TileBuilder();
  const tree = new CompactRange();
  for (let i = 0; i < LOG_SIZE; i++) {
    const entry = chain.append('decision', bodyAt(i), T0_MICROS);
    tiles.add(entry);
    tree.append(entry.leafHash);
    if (i % 65_536 === 65_535) {
      tiles.drain();
      await nextTurn();
    }
  }
  tiles.drain();
  const signer = parseSignerKey(generateNoteKey(ORIGIN, new Uint8Array(32).fill(3)).signerKey);
  await mkdir(join(dir, 'log'), { recursive: true });
  const publisher = new LogPublisher({ dir: join(dir, 'log'), origin: ORIGIN, signer, resume: { tiles: tiles.state(), tree: tree.toState() } });
  await publisher.publish();
  return { chain, publisher };
}

/** An anchor bucket in memory: the anchorer's own work, without a network client's. */
function memoryBucket(): AnchorBucket {
  const objects = new Map<string, Uint8Array>();
  return {
    location: 'gs://bench/stalls',
    putImmutable: async (name, bytes) => (objects.has(name) ? 'existed' : (objects.set(name, bytes), 'created')),
    putLatest: async (name, bytes) => void objects.set(name, bytes),
    get: async (name) => objects.get(name),
    list: async () => [],
  };
}
