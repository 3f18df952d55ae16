// `tai serve --gcs gs://B/P`: the receipt log anchored in Cloud Storage while the governor runs. Each log
// anchors under its own origin (gs://B/P/<origin>/), so replicas sharing a --gcs never write each other's objects.
import { Anchorer, type AnchorStatus } from '../receipts/anchor/index.ts';
import { readCheckpointFile, type CheckpointRead } from '../receipts/client/index.ts';
import type { AnchorReadiness } from '../readiness/index.ts';
import type { ServerMetricsOptions } from '../http/metrics.ts';
import { gcsBucket } from './gcs-storage.ts';
import type { CommandIO } from './io.ts';

export interface AnchorConfig {
  /** gs://BUCKET[/PREFIX] from --gcs. */
  url: string;
  /** --gcs-endpoint: an emulator instead of Google's service (no credentials). */
  endpoint: string | undefined;
  /** Between passes while healthy (--anchor-interval). */
  intervalMs: number;
  /** --anchor-retention: days each immutable object is locked (Object Retention Lock); none when undefined. */
  retentionDays: number | undefined;
}

/** How long stop() waits for a last pass: Cloud Run allows 10 s after SIGTERM, and its disk dies with it. */
const FINAL_PASS_MS = 5000;

export interface Anchoring {
  /** gs://B/P/<origin>: what `tai log verify` takes. */
  location: string;
  status(): AnchorStatus;
  readiness(durableSize: number): AnchorReadiness;
  /** A last pass (bounded), then stops. */
  stop(): Promise<void>;
}

/** What the server adds to /readyz and /metrics for anchoring: nothing without --gcs. */
export interface AnchorReporting {
  readiness(): { anchor?: AnchorReadiness };
  gauges: Pick<ServerMetricsOptions, 'anchorLagEntries' | 'anchorLagSeconds' | 'anchorFailing'>;
  stop(): Promise<void>;
}

/** {@link startAnchoring} when `config` is given, wired to the log's durable size; inert otherwise. */
export async function anchorReporting(c: Omit<Parameters<typeof startAnchoring>[0], 'config'> & { config: AnchorConfig | undefined; durableSize: () => number }): Promise<AnchorReporting> {
  if (c.config === undefined) return { readiness: () => ({}), gauges: {}, stop: async () => {} };
  const anchoring = await startAnchoring({ ...c, config: c.config });
  const lag = (): AnchorReadiness => anchoring.readiness(c.durableSize());
  return {
    readiness: () => ({ anchor: lag() }),
    gauges: { anchorLagEntries: () => lag().lagEntries, anchorLagSeconds: () => lag().lagSeconds, anchorFailing: () => Number(lag().failingSince !== undefined) },
    stop: () => anchoring.stop(),
  };
}

/**
 * Starts anchoring `logDir`. Refuses to start when the bucket already anchors more of this origin than the
 * local log holds, or anchors it under another key: this disk lost entries (or another process claims the
 * origin), and anchoring a different history there would be a split view. A bucket unreachable at start is not
 * fatal: passes retry with backoff and the backlog drains later.
 */
export async function startAnchoring(c: { config: AnchorConfig; logDir: string; origin: string; verifierKey: string; localSize: number; now: () => number; io: CommandIO }): Promise<Anchoring> {
  const location = `${c.config.url.replace(/\/+$/, '')}/${c.origin}`;
  const bucket = gcsBucket(location, c.config.endpoint, c.config.retentionDays === undefined ? undefined : { days: c.config.retentionDays, now: c.now });
  // The bucket's own read error, not bucketLogReader's: the message below names the object itself.
  const anchored = await readCheckpointFile((path) => bucket.get(path), { verifierKey: c.verifierKey }).catch(
    (e: unknown) => void c.io.err(`tai: cannot read ${location}/checkpoint yet (${(e as Error).message}); anchoring will retry`),
  );
  if (anchored !== undefined) refuseForeign({ anchored, location, ...c });
  const anchorer = await Anchorer.open({ logDir: c.logDir, bucket, now: c.now, intervalMs: c.config.intervalMs, log: (m) => c.io.err(`tai: ${m}`) });
  anchorer.start();
  const openedAt = c.now();
  c.io.out(`tai: anchoring the log to ${location} every ${c.config.intervalMs / 1000} s (verify with: tai log verify ${location} --vkey …)`);
  return {
    location,
    status: () => anchorer.status(),
    readiness: (durableSize) => readinessOf({ location, status: anchorer.status(), durableSize, now: c.now(), openedAt }),
    stop: async () => {
      await anchorer.stop();
      const last = anchorer.anchorOnce().then(
        (r) => c.io.out(`tai: anchored ${r.size} entries to ${location}`),
        (e: unknown) => c.io.err(`tai: the last anchoring pass failed: ${(e as Error).message}; the next start with this log folder resumes it`),
      );
      await Promise.race([last, new Promise((r) => setTimeout(r, FINAL_PASS_MS).unref())]);
    },
  };
}

function refuseForeign(c: { anchored: CheckpointRead; location: string; localSize: number }): void {
  if ('invalid' in c.anchored) {
    const e = c.anchored.invalid;
    throw new Error(`${c.location}/checkpoint is not signed by this log's key (${e.message}): another log anchors here, or this log's signing key was replaced (a new one is made when none is found at --key); restore the key, or use another --gcs prefix or --origin`, { cause: e });
  }
  const { size } = c.anchored.checkpoint;
  if (size > c.localSize) {
    throw new Error(
      `${c.location} anchors ${size} entries of this log, but the local log holds ${c.localSize}: the log folder was lost or replaced. ` +
        'Restore it, or start a new log under another --origin; anchoring a different history here would be a split view',
    );
  }
}

/** Lag as /readyz and the metrics show it: entries durable locally but not in the bucket, and how old they may be. */
export function readinessOf(c: { location: string; status: AnchorStatus; durableSize: number; now: number; openedAt: number }): AnchorReadiness {
  const { status: s } = c;
  const lagEntries = Math.max(0, c.durableSize - s.anchoredSize);
  const since = s.coveredAt ?? c.openedAt;
  return {
    location: c.location,
    anchoredSize: s.anchoredSize,
    lagEntries,
    lagSeconds: lagEntries === 0 ? 0 : Math.max(0, (c.now - since) / 1000),
    ...(s.lastPass && { lastPass: { entries: s.lastPass.entries, objects: s.lastPass.objects, seconds: s.lastPass.ms / 1000 } }),
    ...(s.failingSince === undefined ? {} : { failingSince: new Date(s.failingSince).toISOString() }),
    ...(s.conflict === undefined ? {} : { conflict: s.conflict }),
  };
}
