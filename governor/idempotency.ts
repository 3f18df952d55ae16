import { MarkedMap, type Capture } from './marked-map.ts';

/** How long an idempotency key is remembered (design §3): 24 hours. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Default bound on remembered keys; past it the oldest are forgotten early (see `IdempotencyCacheOptions`). */
export const DEFAULT_MAX_IDEMPOTENCY_KEYS = 1_000_000;

/** Expired entries dropped per call at most, so no single call pays for a long backlog. */
const PRUNE_PER_CALL = 64;

export interface IdempotencyCacheOptions {
  /** Default IDEMPOTENCY_TTL_MS. */
  ttlMs?: number;
  /**
   * Bound on live keys, default DEFAULT_MAX_IDEMPOTENCY_KEYS. When full, the oldest key is forgotten before
   * its TTL: a retry of that request would then be decided (and counted) again. Size it to the key rate × TTL.
   */
  maxKeys?: number;
}

/** Never changed once stored (`replace` stores a new one): a capture keeps it by reference. */
interface Entry<T> {
  readonly tenant: string;
  readonly key: string;
  readonly value: T;
  readonly expiresAt: number;
}

/** One remembered answer as a snapshot holds it and `remember` takes it back. */
export interface StoredAnswer<T> {
  tenant: string;
  key: string;
  value: T;
  storedAt: number;
}

/**
 * Idempotency keys, scoped per tenant: the first decision stored under a tenant + key is returned — the same
 * object, unchanged (or the copy `replace` put in its place) — for every lookup within the TTL. Time comes from the `now` passed in. Entries sit in a
 * Map in insertion order, which is expiry order while the clock moves forward, and each call prunes expired
 * entries from the front, so memory follows the live keys.
 *
 * @example
 * const keys = new IdempotencyCache<ConsumeDecision>();
 * keys.get('acme', 'req-7', now) ?? keys.remember('acme', 'req-7', decide(), now);
 */
export class IdempotencyCache<T> {
  readonly #entries = new MarkedMap<string, Entry<T>>();
  readonly #ttlMs: number;
  readonly #maxKeys: number;

  constructor(options: IdempotencyCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? IDEMPOTENCY_TTL_MS;
    this.#maxKeys = options.maxKeys ?? DEFAULT_MAX_IDEMPOTENCY_KEYS;
  }

  /** Number of entries held, expired ones not yet pruned included. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value stored for tenant + key, if stored less than the TTL before `now`. */
  get(tenant: string, key: string, now: number): T | undefined {
    this.#prune(now);
    const entry = this.#entries.get(scopedKey(tenant, key));
    return entry !== undefined && now < entry.expiresAt ? entry.value : undefined;
  }

  /**
   * Stores `value` under tenant + key at `now` (also used to rebuild keys from the receipt log) and returns
   * the value now remembered: an earlier, unexpired value wins and is returned instead.
   */
  remember(tenant: string, key: string, value: T, now: number): T {
    const existing = this.get(tenant, key, now);
    if (existing !== undefined) return existing;
    const id = scopedKey(tenant, key);
    this.#entries.delete(id); // an expired entry moves to the back with its new expiry
    this.#entries.set(id, { tenant, key, value, expiresAt: now + this.#ttlMs });
    this.#evictOverflow();
    return value;
  }

  /**
   * Stores `next` in place of `stored` under tenant + key, keeping its expiry, if `stored` (the very object) is
   * still what is remembered there; returns whether it was. For a layer that answers a richer copy of the first
   * answer (the recording layer adds its receipt) without changing the object the cache holds.
   */
  replace(tenant: string, key: string, stored: T, next: T): boolean {
    const entry = this.#entries.get(scopedKey(tenant, key));
    if (entry?.value !== stored) return false;
    this.#entries.set(scopedKey(tenant, key), { ...entry, value: next });
    return true;
  }

  /** The unexpired entries with when each was stored, oldest first (to snapshot and restore them). */
  *entries(now: number): Iterable<StoredAnswer<T>> {
    for (const e of this.#entries.values()) if (e.expiresAt > now) yield this.#stored(e);
  }

  /**
   * `entries(now)` as they are now, taken in O(1) and read later, a member at a time, while the cache goes on
   * changing (the run state's save, issue 19: see MarkedMap). Release it if it is not read to the end.
   */
  capture(now: number): Capture<StoredAnswer<T>> {
    const captured = this.#entries.capture();
    const read = (function* (cache: IdempotencyCache<T>): Generator<StoredAnswer<T>> {
      for (const [, e] of captured) if (e.expiresAt > now) yield cache.#stored(e);
    })(this);
    return { [Symbol.iterator]: () => read, release: () => captured.release() };
  }

  #stored(e: Entry<T>): StoredAnswer<T> {
    return { tenant: e.tenant, key: e.key, value: e.value, storedAt: e.expiresAt - this.#ttlMs };
  }

  #prune(now: number): void {
    for (let budget = PRUNE_PER_CALL; budget > 0; budget--) {
      const oldest = this.#entries.oldest();
      if (oldest === undefined || oldest[1].expiresAt > now) return;
      this.#entries.delete(oldest[0]);
    }
  }

  #evictOverflow(): void {
    while (this.#entries.size > this.#maxKeys) this.#entries.delete(this.#entries.oldest()![0]);
  }
}

/** tenant + key without ambiguity: the tenant's length prefixes it, so no key can forge another tenant's. */
function scopedKey(tenant: string, key: string): string {
  return `${tenant.length}:${tenant}:${key}`;
}
