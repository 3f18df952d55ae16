import { addInto, type ResourceVector } from './resource-vector.ts';

/** Capacity promised to an admitted request whose object the informers have not seen yet. */
export interface Reservation {
  /** The AdmissionReview request UID: the API server retries a review with the same UID. */
  uid: string;
  tenant: string;
  /** The object it is for (`pods/ns/name`), which confirms it when the watch delivers it. */
  key: string;
  amounts: ResourceVector;
  expiresAt: number;
  /** For an update: the resourceVersion before it; only a newer version of the object confirms it. */
  replaces?: string | undefined;
  /** For a namespace: its labels, so Pods created right after it are placed before the watch delivers it. */
  labels?: Readonly<Record<string, string>> | undefined;
}

/**
 * In-flight reservations. Admission checks a cap against what the informers count plus what is reserved,
 * and reserves in the same turn of the event loop, so concurrent creates cannot together pass a cap. A
 * reservation ends when the watch delivers its object (now counted by the ledger), when its review could not be
 * recorded (released: the API server got no "allowed"), or when it expires (the create failed after admission, or
 * never reached storage).
 */
export class Reservations {
  readonly #byUid = new Map<string, Reservation>();
  readonly #byTenant = new Map<string, Set<string>>();
  readonly #byKey = new Map<string, Set<string>>();

  get size(): number {
    return this.#byUid.size;
  }

  reserve(r: Reservation): void {
    this.#drop(r.uid);
    this.#byUid.set(r.uid, r);
    index(this.#byTenant, r.tenant, r.uid);
    index(this.#byKey, r.key, r.uid);
  }

  /** What is reserved for a tenant and not expired at `now`. Expired reservations are dropped on the way. */
  pending(tenant: string, now: number): ResourceVector {
    const out: ResourceVector = new Map();
    for (const uid of [...(this.#byTenant.get(tenant) ?? [])]) {
      const r = this.#byUid.get(uid)!;
      if (r.expiresAt <= now) this.#drop(uid);
      else addInto(out, r.amounts);
    }
    return out;
  }

  /** The watch delivered this object at this version: reservations it fulfils end. */
  confirm(key: string, resourceVersion: string | undefined): void {
    for (const uid of [...(this.#byKey.get(key) ?? [])]) {
      const r = this.#byUid.get(uid)!;
      if (r.replaces === undefined || r.replaces !== resourceVersion) this.#drop(uid);
    }
  }

  /** The labels of a namespace admitted but not yet delivered by the watch. */
  namespaceLabels(namespace: string, now: number): Readonly<Record<string, string>> | undefined {
    for (const uid of this.#byKey.get(`namespaces/${namespace}/${namespace}`) ?? []) {
      const r = this.#byUid.get(uid)!;
      if (r.labels && r.expiresAt > now) return r.labels;
    }
    return undefined;
  }

  /** Ends a reservation whose admission was never answered "allowed" (its receipt could not be written). */
  release(uid: string): void {
    this.#drop(uid);
  }

  /** Drops every reservation that has expired at `now` (the periodic sweep). */
  expire(now: number): void {
    for (const [uid, r] of this.#byUid) if (r.expiresAt <= now) this.#drop(uid);
  }

  #drop(uid: string): void {
    const r = this.#byUid.get(uid);
    if (!r) return;
    this.#byUid.delete(uid);
    unindex(this.#byTenant, r.tenant, uid);
    unindex(this.#byKey, r.key, uid);
  }
}

function index(map: Map<string, Set<string>>, key: string, uid: string): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(uid);
}

function unindex(map: Map<string, Set<string>>, key: string, uid: string): void {
  const set = map.get(key);
  set?.delete(uid);
  if (set?.size === 0) map.delete(key);
}
