import { readFile } from 'node:fs/promises';
import { createClient } from '@redis/client';
import { RedisAnswers } from './redis-answers.ts';
import { RedisCounters, type CallObserver } from './redis-counters.ts';
import { RedisReservations } from './redis-reservations.ts';
import type { Client } from './redis-scripts-runner.ts';

export interface CountersConfig {
  /** redis://HOST:PORT[/DB], or rediss:// for TLS (Memorystore's in-transit encryption). */
  url: string;
  /** A file holding the AUTH password (Memorystore's AUTH string), read at start. */
  passwordFile?: string | undefined;
  /** PEM CA bundle for rediss:// (Memorystore's server CA); default the system's. */
  caFile?: string | undefined;
  /** How long a command may take before the decision follows the unavailability policy. */
  timeoutMs: number;
}

/** The shared counters and idempotency answers, on one connection. */
export interface SharedStore {
  counters: RedisCounters;
  answers: RedisAnswers;
  /** Admission reservations for tenant-wide resource caps (docs/adr/0007). */
  reservations: RedisReservations;
  /** The connection's state and recent calls, for /readyz. */
  health(): CountersHealth;
  close(): Promise<void>;
}

/** The shared counters as /readyz and /metrics show them. */
export interface CountersHealth {
  connected: boolean;
  /** Round trips of recent calls, an exponential moving average, ms (0 before the first). */
  latencyMs: number;
  /** The last call's error, while the last call failed. */
  error?: string;
}

/** Weight of the newest round trip in the moving average. */
const LATENCY_WEIGHT = 0.1;

/** Reconnects: at once, then backing off to one attempt a second. */
const RECONNECT_MAX_MS = 1000;

/**
 * Opens the shared store at `config.url` for replica `replica` (its log origin). Does not wait for the
 * connection: a store that is down at start is a store that is down (decisions follow the policy, /readyz says
 * so), never a start-up failure. Commands fail at once while disconnected (no offline queue) and after
 * `timeoutMs` when the store stalls.
 */
export async function openSharedStore(config: CountersConfig, replica: string, observe?: CallObserver): Promise<SharedStore> {
  const url = new URL(config.url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`--counters ${config.url}: expected redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB]`);
  const password = config.passwordFile === undefined ? undefined : (await readFile(config.passwordFile, 'utf8')).trim();
  const ca = config.caFile === undefined ? undefined : await readFile(config.caFile);
  const client = createClient({
    url: config.url,
    ...(password !== undefined && { password }),
    socket: {
      connectTimeout: Math.max(config.timeoutMs, 1000),
      reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, RECONNECT_MAX_MS),
      ...(url.protocol === 'rediss:' && { tls: true as const, ...(ca !== undefined && { ca }) }),
    },
    disableOfflineQueue: true,
  });
  client.on('error', () => undefined); // each command reports its own failure; the client reconnects
  client.connect().catch(() => undefined);
  let latencyMs = 0;
  let error: string | undefined;
  const calls = {
    timeoutMs: config.timeoutMs,
    observe: (ms: number, e: Parameters<CallObserver>[1]) => {
      latencyMs = latencyMs === 0 ? ms : latencyMs + LATENCY_WEIGHT * (ms - latencyMs);
      error = e?.message;
      observe?.(ms, e);
    },
  };
  const counters = new RedisCounters(client as unknown as Client, calls);
  return {
    counters,
    answers: new RedisAnswers(counters, replica),
    reservations: new RedisReservations(client as unknown as Client, calls),
    health: () => ({ connected: client.isReady, latencyMs: Math.round(latencyMs * 1000) / 1000, ...(error !== undefined && { error }) }),
    close: async () => {
      client.destroy();
    },
  };
}
