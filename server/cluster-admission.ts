import type { Clock, PolicyCompiler, SharedReservations } from '../governor/index.ts';
import type { CoreResource, InformerChange } from '../operator/index.ts';
import { AdmissionController, objectKey, Reservations, ResourceLedger, SharedCaps, TenantMembership } from '../http/admission/index.ts';

/** How often reservations the watch never confirmed are let go. */
const EXPIRE_EVERY_MS = 5000;

export interface ClusterAdmissionOptions {
  compiler: PolicyCompiler;
  clock: Clock;
  /** Whether the operator's informers hold this TAI object (`SKU/name`, `Tenant/name`) yet. */
  holds: (key: string) => boolean;
  /** Reservations shared with the other replicas (--counters), with this replica's name (its log origin). */
  shared?: { store: SharedReservations; replica: string } | undefined;
}

/**
 * Cluster mode's admission, built at the composition root beside the operator and fed from the operator's core
 * informers, so that the reconcilers and the webhook read one cache (as a controller-runtime manager shares one
 * cache between controllers and webhooks).
 *
 * @example
 * const admission = new ClusterAdmission({ compiler, clock, holds: (k) => operator.policy.holds(k) });
 * const operator = new Operator({ ...options, onCoreChange: (r, c) => admission.coreChanged(r, c) });
 */
export class ClusterAdmission {
  /** Admission's view of the cluster: what the core informers count, and what admitted requests reserve. */
  readonly ledger = new ResourceLedger();
  readonly reservations = new Reservations();
  /** With --counters: the reservations every replica counts. */
  readonly shared: SharedCaps | undefined;
  readonly controller: AdmissionController;
  readonly #clock: Clock;
  #timer: NodeJS.Timeout | undefined;

  constructor(o: ClusterAdmissionOptions) {
    const { compiler } = o;
    const now = (): number => o.clock.now();
    this.#clock = o.clock;
    this.shared = o.shared && new SharedCaps({ store: o.shared.store, replica: o.shared.replica, ledger: this.ledger, now });
    const membership = new TenantMembership({ tenants: () => compiler.resources.tenants, generation: () => compiler.snapshot.generation }, this.ledger);
    this.controller = new AdmissionController({
      policy: {
        // Refreshed as the decision path is: a validity boundary passed is applied (and recorded) first.
        tenant: (n) => compiler.refresh(now()).tenants.get(n),
        skus: () => compiler.resources.skus,
        tenants: () => compiler.resources.tenants,
        holds: o.holds,
      },
      membership,
      ledger: this.ledger,
      reservations: this.reservations,
      shared: this.shared,
      now,
    });
  }

  /** Core objects feed the ledger; one the watch delivers fulfils the reservation made when it was admitted. */
  coreChanged(resource: CoreResource, c: InformerChange): void {
    const { object } = c;
    const meta = object.metadata as { name: string; namespace?: string; resourceVersion?: string };
    if (c.type === 'delete') this.ledger.remove(resource, object as never);
    else this.ledger.upsert(resource, object as never);
    const key = objectKey(resource, meta.namespace ?? meta.name, meta.name);
    this.reservations.confirm(key, meta.resourceVersion);
    this.shared?.confirm(key, meta.resourceVersion);
  }

  /** Starts letting go of expired reservations (once the informers are listed). */
  start(): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => {
      this.reservations.expire(this.#clock.now());
      this.shared?.expire(this.#clock.now());
    }, EXPIRE_EVERY_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
