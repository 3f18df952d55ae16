import { CountersUnavailableError, type SharedReservationEntry, type SharedReservations } from '../../governor/index.ts';
import type { ResourceLedger } from './resource-ledger.ts';
import { addInto, type ResourceVector } from './resource-vector.ts';

/** Attempts before reservations still unjudged (learnt on the previous attempt) are counted as pending. */
const ATTEMPTS = 4;

/** A shared reservation this replica knows of and has not yet confirmed to the store. */
interface Known {
  tenant: string;
  key: string;
  replaces: string | undefined;
  /** By this replica's clock. */
  expiresAt: number;
  /** The watch delivered its object (a newer version for an update): this replica's ledger counts it. */
  delivered: boolean;
}

/** What a request adds to a tenant's caps, judged on the shared reservations. */
export interface SharedCapRequest {
  tenant: string;
  uid: string;
  key: string;
  replaces: string | undefined;
  /** The caps the request adds to: resource → limit (milli). */
  caps: ReadonlyMap<string, number>;
  adds: ResourceVector;
  /** What this replica's informers count for the tenant now (read right before each attempt). */
  observed: () => ResourceVector;
  /** False for a dry run: checked, nothing reserved. */
  reserve: boolean;
  ttlMs: number;
}

export type SharedCapVerdict = { outcome: 'admitted' | 'exceeded'; used: ResourceVector } | { outcome: 'unavailable'; error: string };

/**
 * One replica's side of the shared admission reservations (docs/adr/0007): usage is what this replica's
 * informers hold plus every live reservation, from any replica, that they do not hold yet. Which ones they hold
 * only this replica can tell, so it judges each reservation it knows of against its ledger in the same turn as it
 * reads its usage, and the store counts, checks and reserves atomically on those verdicts. Reservations the store
 * holds that this replica has not judged come back for judging first. A reservation judged delivered is kept as
 * confirmed by this replica in the store, and forgotten here.
 */
export class SharedCaps {
  readonly #store: SharedReservations;
  readonly #replica: string;
  readonly #ledger: ResourceLedger;
  readonly #now: () => number;
  readonly #known = new Map<string, Known>();

  constructor(o: { store: SharedReservations; replica: string; ledger: ResourceLedger; now: () => number }) {
    this.#store = o.store;
    this.#replica = o.replica;
    this.#ledger = o.ledger;
    this.#now = o.now;
  }

  /** Counts, checks the caps and reserves (unless a dry run), across replicas. */
  async reserve(r: SharedCapRequest): Promise<SharedCapVerdict> {
    for (let attempt = 1; ; attempt++) {
      // Verdicts and usage from one turn: the ledger counts an object or its reservation does, never both or neither.
      const { confirmed, pending } = this.#judge(r.tenant);
      const observed = only(r.observed(), r.caps);
      let result;
      try {
        result = await this.#store.reserve({
          tenant: r.tenant, replica: this.#replica, observed, caps: r.caps, adds: r.adds, confirmed, pending,
          unjudgedPending: attempt >= ATTEMPTS,
          reservation: r.reserve ? { uid: r.uid, key: r.key, replaces: r.replaces, ttlMs: r.ttlMs } : undefined,
        });
      } catch (e) {
        if (e instanceof CountersUnavailableError) return { outcome: 'unavailable', error: e.message };
        throw e;
      }
      for (const uid of confirmed) this.#known.delete(uid);
      if (result.outcome === 'unjudged') {
        this.#learn(r.tenant, result.reservations);
        continue;
      }
      if (result.outcome === 'admitted' && r.reserve) this.#learn(r.tenant, [{ uid: r.uid, key: r.key, replaces: r.replaces, expiresInMs: r.ttlMs }]);
      return { outcome: result.outcome, used: addInto(observed, result.reserved) };
    }
  }

  /** The watch delivered this object at this version: reservations known here that it fulfils are confirmed. */
  confirm(key: string, resourceVersion: string | undefined): void {
    for (const k of this.#known.values()) if (k.key === key && (k.replaces === undefined || k.replaces !== resourceVersion)) k.delivered = true;
  }

  /** Ends a reservation whose review was never answered "allowed"; if the store cannot be reached, it expires. */
  release(uid: string): void {
    const k = this.#known.get(uid);
    if (!k) return;
    this.#known.delete(uid);
    this.#store.release(k.tenant, uid).catch(() => undefined);
  }

  /** Forgets reservations that have expired at `now` (the periodic sweep). */
  expire(now: number): void {
    for (const [uid, k] of this.#known) if (k.expiresAt <= now) this.#known.delete(uid);
  }

  /** This replica's verdicts on the tenant's reservations it knows of. */
  #judge(tenant: string): { confirmed: string[]; pending: string[] } {
    const now = this.#now();
    const confirmed: string[] = [];
    const pending: string[] = [];
    for (const [uid, k] of this.#known) {
      if (k.tenant !== tenant) continue;
      if (k.expiresAt <= now) this.#known.delete(uid);
      else (k.delivered || this.#holds(k) ? confirmed : pending).push(uid);
    }
    return { confirmed, pending };
  }

  /** Whether the ledger counts a reservation's object: it holds it (for an update, at another version than the one replaced). */
  #holds(k: Known): boolean {
    return this.#ledger.has(k.key) && (k.replaces === undefined || this.#ledger.versionOf(k.key) !== k.replaces);
  }

  #learn(tenant: string, entries: readonly SharedReservationEntry[]): void {
    const now = this.#now();
    for (const e of entries) {
      if (!this.#known.has(e.uid)) this.#known.set(e.uid, { tenant, key: e.key, replaces: e.replaces, expiresAt: now + e.expiresInMs, delivered: false });
    }
  }
}

/** The entries of `v` for the capped resources. */
function only(v: ResourceVector, caps: ReadonlyMap<string, number>): ResourceVector {
  return new Map([...caps.keys()].map((resource) => [resource, v.get(resource) ?? 0]));
}
