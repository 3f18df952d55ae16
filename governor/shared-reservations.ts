/**
 * Admission reservations that several webhook replicas share (docs/adr/0007, design §12: Redis/Valkey through
 * counters/), so that together they admit exactly up to a tenant's resource caps. Amounts are integers in
 * milli-units keyed by resource (`count/pods`, `requests.cpu`), as admission counts them.
 *
 * A replica counts a tenant's usage as what its own informers hold plus every live reservation its informers
 * have not delivered yet. Only that replica's cache can tell which reservations it already counts, so each
 * attempt carries its verdicts on the reservations it knows of; one it has not judged yet makes the attempt
 * come back `unjudged` (with the reservations to judge) instead of deciding on a guess.
 */
export interface SharedReservations {
  /** One atomic step: judge, count, check the caps and (unless `reservation` is undefined: a dry run) reserve. */
  reserve(attempt: ReserveAttempt): Promise<ReserveAttemptResult>;
  /** Ends a reservation whose review was never answered "allowed" (its receipt could not be written). */
  release(tenant: string, uid: string): Promise<void>;
}

/** A reservation as another replica learns of it, to judge against its own informers. */
export interface SharedReservationEntry {
  uid: string;
  /** The object it is for (`pods/ns/name`). */
  key: string;
  /** For an update: the resourceVersion before it. */
  replaces?: string | undefined;
  /** Milliseconds from the store's clock now until it expires. */
  expiresInMs: number;
}

export interface ReserveAttempt {
  tenant: string;
  /** The deciding replica (its log origin): what it has confirmed is kept per replica. */
  replica: string;
  /** What the replica's informers count for the tenant now, per capped resource. */
  observed: ReadonlyMap<string, number>;
  /** The caps the request adds to: resource → limit. */
  caps: ReadonlyMap<string, number>;
  /** What the request adds. */
  adds: ReadonlyMap<string, number>;
  /** Reservations the replica's informers now count (kept as confirmed by this replica). */
  confirmed: readonly string[];
  /** Reservations the replica's informers do not count yet. */
  pending: readonly string[];
  /** Count reservations not judged as pending rather than coming back `unjudged` (the last attempt). */
  unjudgedPending: boolean;
  /** What to reserve when the caps hold; undefined to check only. */
  reservation?: { uid: string; key: string; replaces?: string | undefined; ttlMs: number } | undefined;
}

export type ReserveAttemptResult =
  /** `reserved`: what live reservations the replica does not count yet add, per capped resource. */
  | { outcome: 'admitted' | 'exceeded'; reserved: ReadonlyMap<string, number> }
  | { outcome: 'unjudged'; reservations: readonly SharedReservationEntry[] };
