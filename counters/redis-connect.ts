import { readFile } from 'node:fs/promises';
import { createClient } from '@redis/client';
import { RedisAnswers } from './redis-answers.ts';
import type { UsageCell } from '../governor/index.ts';
import { CountersEpoch, type EpochState } from './counters-epoch.ts';
import type { CallObserver } from './guarded-call.ts';
import { RedisCounters } from './redis-counters.ts';
import { RedisReservations } from './redis-reservations.ts';
import { UsageMirror } from './usage-mirror.ts';
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
  /** A read-only copy of the counters for the operator's Tenant status, refreshed on demand. */
  mirror: UsageMirror;
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
  /** `ready` while counting; `restoring` while the counters are rebuilt from the logs (naming who is awaited). */
  epoch: EpochState;
}

/** What the replica brings to the store besides its name. */
export interface ReplicaHooks {
  /** Hears each call's round trip (metrics). */
  observe?: CallObserver;
  /** This replica's log's view of usage, folded in when the store lost its counters (recording/log-replay.ts). */
  view?: () => Iterable<UsageCell>;
  /** The epoch this replica last counted in, and what hears each change (to keep it beside the log, and to log it). */
  lastEpoch?: string | undefined;
  onEpoch?: (state: EpochState) => void;
}

/** Weight of the newest round trip in the moving average. */
const LATENCY_WEIGHT = 0.1;

/** How long opening waits for the store to answer and the epoch to be known. */
const START_WAIT_MS = 2000;

/** Reconnects: at once, then backing off to one attempt a second. */
const RECONNECT_MAX_MS = 1000;

/** A plain connection for one command-line task (`tai counters rebuild`); the caller closes it with `destroy()`. */
export async function connectStore(config: CountersConfig): Promise<Client> {
  const client = createClient({ ...(await clientOptions(config)), disableOfflineQueue: false });
  client.on('error', () => undefined);
  await client.connect();
  return client as unknown as Client;
}

/** The client's options: the URL, AUTH from its file, TLS with the CA from its file for rediss://. */
async function clientOptions(config: CountersConfig): Promise<Parameters<typeof createClient>[0]> {
  const url = new URL(config.url);
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(`--counters ${config.url}: expected redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB]`);
  const password = config.passwordFile === undefined ? undefined : (await readFile(config.passwordFile, 'utf8')).trim();
  const ca = config.caFile === undefined ? undefined : await readFile(config.caFile);
  return {
    url: config.url,
    ...(password !== undefined && { password }),
    socket: {
      connectTimeout: Math.max(config.timeoutMs, 1000),
      reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, RECONNECT_MAX_MS),
      ...(url.protocol === 'rediss:' && { tls: true as const, ...(ca !== undefined && { ca }) }),
    },
    disableOfflineQueue: true,
  };
}

/**
 * Opens the shared store at `config.url` for replica `replica` (its log origin). Does not wait for the
 * connection: a store that is down at start is a store that is down (decisions follow the policy, /readyz says
 * so), never a start-up failure. Commands fail at once while disconnected (no offline queue) and after
 * `timeoutMs` when the store stalls.
 */
export async function openSharedStore(config: CountersConfig, replica: string, hooks: ReplicaHooks = {}): Promise<SharedStore> {
  const client = createClient(await clientOptions(config));
  client.on('error', () => undefined); // each command reports its own failure; the client reconnects
  const connecting = client.connect().catch(() => undefined);
  let latencyMs = 0;
  let error: string | undefined;
  const epoch = new CountersEpoch(client as unknown as Client, { origin: replica, view: hooks.view ?? (() => []), lastEpoch: hooks.lastEpoch, ...(hooks.onEpoch && { onState: hooks.onEpoch }) });
  const calls = {
    timeoutMs: config.timeoutMs,
    observe: (ms: number, e: Parameters<CallObserver>[1]) => {
      latencyMs = latencyMs === 0 ? ms : latencyMs + LATENCY_WEIGHT * (ms - latencyMs);
      error = e?.message;
      hooks.observe?.(ms, e);
    },
  };
  const counters = new RedisCounters(client as unknown as Client, { ...calls, epoch });
  client.on('ready', () => void epoch.reconnected());
  epoch.start();
  // A store that answers at once is counting before the first decision; one that does not is not waited for long.
  await Promise.race([connecting.then(() => epoch.check()), new Promise((r) => setTimeout(r, START_WAIT_MS).unref())]);
  return {
    counters,
    answers: new RedisAnswers(counters, replica),
    reservations: new RedisReservations(client as unknown as Client, calls),
    mirror: new UsageMirror(client as unknown as Client),
    health: () => ({ connected: client.isReady, latencyMs: Math.round(latencyMs * 1000) / 1000, ...(error !== undefined && { error }), epoch: epoch.state }),
    close: async () => {
      epoch.stop();
      client.destroy();
    },
  };
}
