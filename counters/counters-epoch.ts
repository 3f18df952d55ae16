import { randomUUID } from 'node:crypto';
import type { UsageCell } from '../governor/index.ts';
import { BEGIN, FINISH, RAISE } from './redis-scripts.ts';
import { Script, type Client } from './redis-scripts-runner.ts';

/** The store's epoch: its id while the counters are good, `restoring ID` while they are rebuilt from the logs. */
export const EPOCH_KEY = '{tai}:epoch';
/** Replica heartbeats: origin → ms of its last beat. */
const MEMBERS_KEY = '{tai}:members';
const expectKey = (id: string): string => `{tai}:expect:${id}`;
const restoredKey = (id: string): string => `{tai}:restored:${id}`;
/** How long the bookkeeping of a restore is kept. */
const RESTORE_KEYS_TTL_S = 24 * 60 * 60;
const RESTORING = 'restoring ';
/** While not counting, how soon a finished check is followed by the next. */
const RECHECK_MS = 100;
/** Beats after which a check still running is given up. */
const CHECK_GIVEN_UP_AFTER_BEATS = 3;
/** How long one of the epoch's commands may take: one lost with a connection must not hold up the next check. */
const COMMAND_DEADLINE_MS = 2000;

const scripts = { begin: new Script(BEGIN), raise: new Script(RAISE), finish: new Script(FINISH) };

/** What RedisCounters asks of the epoch: the one to count in (undefined: not now), and a refusal to report. */
export interface EpochGate {
  readonly current: string | undefined;
  /** A script called in `epoch` was refused: the store has no such epoch (any more). */
  refused(epoch: string): void;
}

export interface CountersEpochOptions {
  /** This replica's log origin: its name among the replicas. */
  origin: string;
  /** This replica's log's view of usage: each counter as its latest receipt left it (recording/log-replay.ts). */
  view: () => Iterable<UsageCell>;
  /** Heartbeat and check period (default 1 s). */
  everyMs?: number;
  /** A replica whose heartbeat is older than this is not waited for (default 10 s). */
  memberTtlMs?: number;
  now?: () => number;
  /** The epoch this replica last counted in (kept beside its log), so a loss while it was down is noticed. */
  lastEpoch?: string | undefined;
  /** Hears each change of state: the log line an operator reads, and keeping the epoch counted in. */
  onState?: (state: EpochState) => void;
}

export type EpochState = { state: 'ready'; epoch: string } | { state: 'restoring'; epoch: string; waitingFor: string[] } | { state: 'unknown' };

/**
 * Keeps the shared counters whole across a store that loses its data (a flush, a failover without persistence).
 *
 * The logs are the truth: each allowed consume's receipt records the shared count after it, so the largest count
 * any replica's log holds for a window is the count. When the epoch is gone, the first replica to see it starts a
 * new one in `restoring` state, naming the replicas it saw beat in the last `memberTtlMs`; each of them folds its
 * log's view in (RAISE: the larger count wins) and says so; the last one ends the restore. Until then every
 * replica counts nothing (hard quotas deny, the rest allow: CountersUnavailable), so no decision counts on counters
 * that are not whole. A replica that was not expected (its beat was older) folds its view in when it comes back;
 * one that never comes back is `tai counters rebuild`'s to fold in (docs/deploy.md).
 */
export class CountersEpoch implements EpochGate {
  readonly #client: Client;
  readonly #o: Required<Omit<CountersEpochOptions, 'onState' | 'lastEpoch'>> & Pick<CountersEpochOptions, 'onState'>;
  /** The epoch this replica last counted in. */
  #known: string | undefined;
  #state: EpochState = { state: 'unknown' };
  /** Replicas seen beating at the last check before this one (what a restore waits for). */
  #alive = new Set<string>();
  /** The epoch whose restore this replica has folded its view into. */
  #folded: string | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Connections made so far: the first is not a reconnection. */
  #connections = 0;
  #checking: Promise<void> | undefined;

  constructor(client: Client, o: CountersEpochOptions) {
    this.#client = bounded(client, COMMAND_DEADLINE_MS);
    this.#o = { everyMs: 1000, memberTtlMs: 10_000, now: () => Date.now(), ...o };
    this.#known = o.lastEpoch;
  }

  get current(): string | undefined {
    return this.#state.state === 'ready' ? this.#state.epoch : undefined;
  }

  get state(): EpochState {
    return this.#state;
  }

  /** A script called in `epoch` was refused: stop counting in it and check now rather than at the next beat. */
  refused(epoch: string): void {
    // A late refusal of a call made in an epoch already left behind says nothing about the current one.
    if (this.current === epoch) this.#set({ state: 'unknown' });
    void this.check();
  }

  /**
   * The connection came back (a failover, a restart with persistence): the store may have kept its epoch but lost
   * its last writes (replication to a standby is asynchronous). Counters only grow within their window, so folding
   * this replica's view of them in again is always right; gauges (no window) are left as the store has them.
   */
  async reconnected(): Promise<void> {
    await this.check();
    const epoch = this.current;
    if (this.#connections++ === 0 || epoch === undefined) return;
    const counters = [...this.#o.view()].filter((c) => c.windowStart !== null);
    await foldView(this.#client, { epoch, origin: this.#o.origin, cells: counters }).catch(() => undefined);
  }

  start(): void {
    this.#timer ??= setInterval(() => void this.check(), this.#o.everyMs);
    this.#timer.unref();
    void this.check();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One heartbeat and check (one at a time); a store that cannot be reached leaves the state as it is. A check
   * that has not finished after a few beats (a command lost with a connection) is given up, so the next one runs.
   */
  check(): Promise<void> {
    if (this.#checking !== undefined) return this.#checking;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const givenUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CHECK_GIVEN_UP_AFTER_BEATS * this.#o.everyMs)));
    const checking = Promise.race([this.#check().catch(() => undefined), givenUp]).finally(() => {
      clearTimeout(timer);
      if (this.#checking === checking) this.#checking = undefined;
      // Not counting (a restore under way, a store just back): look again soon rather than at the next beat.
      if (this.#state.state !== 'ready' && this.#timer !== undefined) setTimeout(() => void this.check(), RECHECK_MS).unref();
    });
    this.#checking = checking;
    return checking;
  }

  async #check(): Promise<void> {
    const now = this.#o.now();
    const seen = this.#alive;
    await this.#client.sendCommand(['HSET', MEMBERS_KEY, this.#o.origin, String(now)]);
    const beats = (await this.#client.sendCommand(['HGETALL', MEMBERS_KEY])) as Record<string, string> | string[];
    this.#alive = aliveMembers(beats, now - this.#o.memberTtlMs);
    let value = (await this.#client.sendCommand(['GET', EPOCH_KEY])) as string | null;
    // Gone: start restoring under a new epoch (or join the one another replica just started).
    value ??= (await scripts.begin.run(this.#client, [EPOCH_KEY], [randomUUID()])) as string;
    if (!value.startsWith(RESTORING)) return this.#ready(value);
    await this.#restore(value.slice(RESTORING.length), new Set([...seen, ...this.#alive, this.#o.origin]));
  }

  async #ready(epoch: string): Promise<void> {
    // A new epoch this replica has not counted in nor folded its view into: the store lost its data while this
    // replica was away (or not waited for). Folding is only for that: on counters that are whole a gauge's view
    // may be stale (released since on another replica), and the store's count is the truth.
    if (this.#known !== undefined && this.#known !== epoch && this.#folded !== epoch) await this.#fold(epoch);
    this.#set({ state: 'ready', epoch });
  }

  async #restore(id: string, expected: Set<string>): Promise<void> {
    await this.#client.sendCommand(['SADD', expectKey(id), ...expected]);
    await this.#client.sendCommand(['EXPIRE', expectKey(id), String(RESTORE_KEYS_TTL_S)]);
    if (this.#folded !== id) await this.#fold(id);
    await scripts.finish.run(this.#client, [EPOCH_KEY, expectKey(id), restoredKey(id)], [id]);
    const waiting = (await this.#client.sendCommand(['SDIFF', expectKey(id), restoredKey(id)])) as string[];
    const value = (await this.#client.sendCommand(['GET', EPOCH_KEY])) as string | null;
    if (value === id) return this.#set({ state: 'ready', epoch: id });
    this.#set({ state: 'restoring', epoch: id, waitingFor: [...waiting].sort() });
  }

  /** Folds this replica's view of every counter into epoch `id`, then says it has. */
  async #fold(id: string): Promise<void> {
    await foldView(this.#client, { epoch: id, origin: this.#o.origin, cells: this.#o.view() });
    this.#folded = id;
  }

  #set(next: EpochState): void {
    const before = this.#state;
    this.#state = next;
    if (next.state === 'ready') this.#known = next.epoch;
    if (before.state !== next.state || ('epoch' in before && 'epoch' in next && before.epoch !== next.epoch)) this.#o.onState?.(next);
  }
}

/**
 * Folds one log's view of usage into epoch `epoch` (restoring or restored: RAISE keeps the larger count of a
 * window) and records that `origin` has been folded in.
 */
export async function foldView(client: Client, o: { epoch: string; origin: string; cells: Iterable<UsageCell> }): Promise<void> {
  const raises = [...o.cells].map((c) =>
    scripts.raise.run(client, [`{tai}:u:${c.tenant}:${c.metric}`, EPOCH_KEY], [o.epoch, c.windowStart === null ? '' : String(c.windowStart), String(c.used), String(c.fired)]),
  );
  await Promise.all(raises);
  await client.sendCommand(['SADD', restoredKey(o.epoch), o.origin]);
  await client.sendCommand(['EXPIRE', restoredKey(o.epoch), String(RESTORE_KEYS_TTL_S)]);
}

/** What `tai counters rebuild` found and did. */
export interface Rebuilt {
  epoch: string;
  /** Whether counting resumed (every replica the restore waits for is folded in). */
  ready: boolean;
  waitingFor: string[];
}

/**
 * Folds logs into the store by hand (`tai counters rebuild`): for a replica that will not come back to fold its own
 * log in, or a store emptied while every replica was down. Starts a restore if the store has no epoch, folds each
 * log's view in, and ends the restore if nothing else is awaited.
 */
export async function rebuildFromLogs(client: Client, logs: readonly { origin: string; cells: Iterable<UsageCell> }[]): Promise<Rebuilt> {
  let value = (await client.sendCommand(['GET', EPOCH_KEY])) as string | null;
  value ??= (await scripts.begin.run(client, [EPOCH_KEY], [randomUUID()])) as string;
  const id = value.startsWith(RESTORING) ? value.slice(RESTORING.length) : value;
  for (const log of logs) await foldView(client, { epoch: id, origin: log.origin, cells: log.cells });
  await scripts.finish.run(client, [EPOCH_KEY, expectKey(id), restoredKey(id)], [id]);
  const waiting = (await client.sendCommand(['SDIFF', expectKey(id), restoredKey(id)])) as string[];
  const now = (await client.sendCommand(['GET', EPOCH_KEY])) as string | null;
  return { epoch: id, ready: now === id, waitingFor: [...waiting].sort() };
}

/**
 * The client with a deadline on every command (sendCommand rejects once it passes). Not guarded-call.ts: that one
 * turns every failure into CountersUnavailableError, and the script runner must see the store's NOSCRIPT reply.
 */
function bounded(client: Client, ms: number): Client {
  const send = client.sendCommand.bind(client);
  const sendCommand = (args: Parameters<Client['sendCommand']>[0], options?: Parameters<Client['sendCommand']>[1]): Promise<unknown> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
    return Promise.race([send(args, options), deadline]).finally(() => clearTimeout(timer));
  };
  return Object.assign(Object.create(client) as Client, { sendCommand });
}

/** The members whose last beat is after `since`. RESP3 answers HGETALL as a map, RESP2 as a flat list. */
function aliveMembers(beats: Record<string, string> | string[], since: number): Set<string> {
  const entries: [string, string][] = Array.isArray(beats) ? beats.flatMap((v, i) => (i % 2 === 0 ? [[v, beats[i + 1]!] as [string, string]] : [])) : Object.entries(beats);
  return new Set(entries.filter(([, at]) => Number(at) > since).map(([member]) => member));
}
