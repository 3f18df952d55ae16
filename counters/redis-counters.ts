import {
  CountersUnavailableError,
  MAX_USAGE,
  takeResult,
  type RateTake,
  type Reservation,
  type ReserveRequest,
  type ReserveResult,
  type SharedCounters,
  type TakeResult,
  type UsageKey,
  type UsageReading,
  type WindowStart,
} from '../governor/index.ts';
import { CLAIM, MOVE_FIRED, READ, RELEASE, RESERVE, TAKE, UNCLAIM } from './redis-scripts.ts';
import { EPOCH_KEY, type EpochGate } from './counters-epoch.ts';
import { guarded, type CallObserver } from './guarded-call.ts';
import { Script, type Client } from './redis-scripts-runner.ts';

const SCRIPTS = { reserve: RESERVE, release: RELEASE, read: READ, moveFired: MOVE_FIRED, take: TAKE, claim: CLAIM, unclaim: UNCLAIM };
type ScriptName = keyof typeof SCRIPTS;
const scripts = Object.fromEntries(Object.entries(SCRIPTS).map(([name, lua]) => [name, new Script(lua)])) as Record<ScriptName, Script>;

/** How long a counter of a window is kept past the window's start: the longest window (a year) and a margin. */
const WINDOW_KEY_TTL_MS = 400 * 24 * 60 * 60 * 1000;

/**
 * Shared counters on Redis or Valkey (Memorystore): one script per operation, sent by SHA and pipelined with
 * every other command issued in the same tick (the client writes them in one go), so concurrent decisions
 * share round trips. While the store is unreachable a call fails at once (no offline queue) or after
 * `timeoutMs`, as CountersUnavailableError; the client reconnects by itself.
 */
export class RedisCounters implements SharedCounters {
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #observe: CallObserver;
  readonly #epoch: EpochGate;

  /**
   * `epoch` says which epoch the counters are good in (none while they are being restored: every call then fails
   * at once) and hears a store that refused it; `observe` hears each call's round trip: ms, and the error when it failed.
   */
  constructor(client: Client, o: { timeoutMs: number; epoch: EpochGate; observe?: CallObserver }) {
    this.#client = client;
    this.#timeoutMs = o.timeoutMs;
    this.#epoch = o.epoch;
    this.#observe = o.observe ?? (() => undefined);
  }

  async read(key: UsageKey, windowStart: WindowStart): Promise<UsageReading> {
    const [used, fired] = (await this.#call('read', counterKey(key), [windowText(windowStart)])) as [number, number];
    return { used, fired };
  }

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { key, windowStart, amount, cap } = request;
    const ttl = windowStart === null ? '' : WINDOW_KEY_TTL_MS;
    const result = (reply: unknown): ReserveResult => {
      const [ok, used, fired, applied] = reply as [number, number, number, number];
      return { ok: ok === 1, used, fired, reservation: ok === 1 ? { key, windowStart, applied } : undefined };
    };
    // A reserve that answers after its decision gave up counted units no decision allowed: give them back.
    const late = (reply: unknown): void => {
      const { reservation } = result(reply);
      if (reservation !== undefined) this.release(reservation).catch(() => undefined);
    };
    return result(await this.#call('reserve', counterKey(key), [windowText(windowStart), amount, cap ?? '', MAX_USAGE, ttl], late));
  }

  async release(reservation: Reservation): Promise<void> {
    await this.#call('release', counterKey(reservation.key), [windowText(reservation.windowStart), reservation.applied]);
  }

  async moveFired(key: UsageKey, windowStart: WindowStart, mark: { expected: number; next: number }): Promise<boolean> {
    return (await this.#call('moveFired', counterKey(key), [windowText(windowStart), mark.expected, mark.next])) === 1;
  }

  async take(request: RateTake): Promise<TakeResult> {
    const { rate, cost } = request;
    const reply = await this.#call('take', `{tai}:r:${request.tenant}:${request.name}`, [rate.perSecond, rate.burst, cost, request.now]);
    const [ok, level] = reply as [number, string];
    return takeResult({ allowed: ok === 1, level: Number(level), cost, rate });
  }

  /** The answer stored under a tenant's idempotency key, or the marker of a claim in flight; else claims it with `marker`. */
  async claim(tenant: string, idempotencyKey: string, claim: { marker: string; ttlMs: number }): Promise<string | undefined> {
    const key = answerKey(tenant, idempotencyKey);
    // A claim taken after its request gave up would hold the key until it expires: let go of it.
    const late = (stored: unknown): void => void (stored === null && this.#call('unclaim', key, [claim.marker]).catch(() => undefined));
    const stored = await this.#call('claim', key, [claim.marker, claim.ttlMs], late);
    return stored === null ? undefined : (stored as string);
  }

  /** The answer (or claim marker) stored under a tenant's idempotency key, claiming nothing. */
  async stored(tenant: string, idempotencyKey: string): Promise<string | undefined> {
    const stored = await this.#guard(this.#client.sendCommand<string | null>(['GET', answerKey(tenant, idempotencyKey)]));
    return stored ?? undefined;
  }

  /** Stores the answer to a claimed key for `ttlMs`. */
  async answer(tenant: string, idempotencyKey: string, answer: { text: string; ttlMs: number }): Promise<void> {
    await this.#guard(this.#client.sendCommand(['SET', answerKey(tenant, idempotencyKey), answer.text, 'PX', String(answer.ttlMs)]));
  }

  /** Drops this request's claim (it was not answered), so a retry is decided afresh. */
  async unclaim(tenant: string, idempotencyKey: string, marker: string): Promise<void> {
    await this.#call('unclaim', answerKey(tenant, idempotencyKey), [marker]);
  }

  /**
   * Runs a script on `key` with `args` in the current epoch; `late` hears its reply if it comes after the call
   * gave up. While the counters are being restored, fails at once; a store that lost them refuses (TAI_EPOCH),
   * which starts their restore.
   */
  #call(name: ScriptName, key: string, args: Array<string | number>, late?: (reply: unknown) => void): Promise<unknown> {
    const epoch = this.#epoch.current;
    if (epoch === undefined) return Promise.reject(new CountersUnavailableError('shared counters are being restored from the replicas\' logs'));
    const reply = scripts[name].run(this.#client, [key, EPOCH_KEY], [...args.map(String), epoch]).catch((e: unknown) => {
      if (e instanceof Error && e.message.startsWith('TAI_EPOCH')) this.#epoch.refused(epoch);
      throw e;
    });
    return this.#guard(reply, late);
  }

  #guard<T>(reply: Promise<T>, late?: (reply: T) => void): Promise<T> {
    return guarded(reply, { timeoutMs: this.#timeoutMs, observe: this.#observe }, late);
  }
}


/** A tenant's counter of a metric (a tenant name holds no `:`, so the key reads back unambiguously). */
export function counterKey(key: UsageKey): string {
  return `{tai}:u:${key.tenant}:${key.metric}`;
}

function answerKey(tenant: string, idempotencyKey: string): string {
  return `{tai}:k:${tenant}:${idempotencyKey}`;
}

export function windowText(windowStart: WindowStart): string {
  return windowStart === null ? '' : String(windowStart);
}
