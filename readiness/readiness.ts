/**
 * What `/readyz` reports: ready once a first snapshot exists; stale while the policy source is failing; not ready
 * while the receipt log cannot write (decisions are refused with 503 meanwhile), or while publishing has kept failing.
 */
export interface Readiness {
  ready: boolean;
  /** Compile generation being served. */
  generation: number;
  tenants: number;
  /** Source problems that are keeping the last good state in service (e.g. a broken file). */
  problems: number;
  /** ms since the policy source was last known good; 0 when it is healthy. */
  staleMs: number;
  source: string;
  /** Cluster mode: whether this replica holds the leader Lease, and what it has written as leader. */
  operator?: { leader: boolean; statusWrites: number; events: number };
  /** With --gcs: how far the anchor bucket is behind the log. Informational: decisions do not wait for it. */
  anchor?: AnchorReadiness;
  /** The receipt log: while it cannot write, the server is not ready. */
  log?: LogReadiness;
  /** Publishing the log's tiles and checkpoint: once it has kept failing for a few seconds, not ready. */
  publish?: PublishReadiness;
  /** With --counters: the shared counters. Informational: while they are down, decisions follow the unavailability policy. */
  counters?: CountersReadiness;
}

/** The shared counters (Redis/Valkey) as /readyz shows them. */
export interface CountersReadiness {
  /** Whether the connection is up; while it is not, decisions answer CountersUnavailable (hard quotas deny). */
  connected: boolean;
  /** Round-trip time of recent calls (moving average), ms; 0 before the first. */
  latencyMs: number;
  /** The last call that failed: its error, while it is the latest outcome. */
  error?: string;
  /** `ready` while counting; `restoring` while the counters the store lost are rebuilt from the replicas' logs; `unknown` before the first check. */
  state: 'ready' | 'restoring' | 'unknown';
  /** While restoring: the replicas whose logs are awaited. */
  waitingFor?: string[];
}

/** The receipt log as /readyz shows it: writable, or what failed and since when (the server retries by itself). */
export interface LogReadiness {
  writable: boolean;
  /** While not writable: the last write or fdatasync error. */
  error?: string;
  /** RFC 3339: when writing first failed. */
  failingSince?: string;
  /** Decisions and other entries made but not on disk yet, rewritten at each attempt. */
  pendingEntries?: number;
  attempts?: number;
}

/**
 * Publishing as /readyz shows it: `publishing` is false once every publish (one a second) has failed for longer
 * than a few seconds (PUBLISH_FAILING_AFTER_MS, server/publish-health.ts); true again after one succeeds. While it
 * fails, the last error, since when, and the failed attempts are shown (also before it counts as not ready).
 */
export interface PublishReadiness {
  publishing: boolean;
  error?: string;
  /** RFC 3339: when publishing first failed. */
  failingSince?: string;
  failures?: number;
}

/** The anchor bucket as /readyz shows it. */
export interface AnchorReadiness {
  location: string;
  anchoredSize: number;
  lagEntries: number;
  lagSeconds: number;
  /** The last pass that anchored entries: entries, objects created, seconds it took. */
  lastPass?: { entries: number; objects: number; seconds: number };
  failingSince?: string;
  conflict?: string;
}
