import type { Sku, Tenant } from '../../crds/index.ts';
import { TENANT_LABEL, type CompiledTenant } from '../../governor/index.ts';
import { CAP_CHECKS, cappedBy, deny, runChecks, TENANT_CHECKS, type CapBreach, type CapInput, type Denial } from './cap-checks.ts';
import { isCountedResource, objectUsage, record, type CountedResource } from './object-usage.ts';
import { checkPolicyObject } from './policy-checks.ts';
import { objectKey, type ResourceLedger } from './resource-ledger.ts';
import { addInto, growth, objects, type ResourceVector } from './resource-vector.ts';
import type { Reservations } from './reservations.ts';
import type { SharedCaps } from './shared-caps.ts';
import type { AdmissionRequest, AdmissionVerdict } from './review.ts';
import type { TenantMembership } from './tenant-membership.ts';
import { WORKLOADS, workloadWarnings } from './workload-warnings.ts';

export interface AdmissionPolicy {
  /** A tenant's compiled entitlements now. */
  tenant(name: string): CompiledTenant | undefined;
  skus(): ReadonlyMap<string, Sku>;
  /** The stored tenants (an SKU change is checked against those that use it). */
  tenants?(): ReadonlyMap<string, Tenant>;
  /** Whether the governor holds this TAI object (`SKU/name`, `Tenant/name`) yet. */
  holds(key: string): boolean;
}

export interface AdmissionControllerOptions {
  policy: AdmissionPolicy;
  membership: TenantMembership;
  ledger: ResourceLedger;
  reservations: Reservations;
  /**
   * Reservations shared with other replicas (tai serve --counters): a request adding to a tenant's cap is then
   * counted, checked and reserved in the shared store, and decided once it answers. Without it, in-process.
   */
  shared?: SharedCaps | undefined;
  now: () => number;
  /** How long capacity stays reserved for an admitted object the watch has not delivered (default 30 s). */
  reservationTtlMs?: number;
  /** How long a review waits for the watch to deliver a TAI object it references and admitted moments ago (default 1.5 s). */
  barrierMs?: number;
}

/** A review's verdict, with what its receipt records. */
export interface AdmissionOutcome extends AdmissionVerdict {
  tenant?: string | undefined;
  cap?: CapBreach | undefined;
  /** Whether capacity was reserved (never for dry runs). */
  reserved: boolean;
}

/** A verdict now, or, for a request that adds to a cap on shared reservations, once the store answers. */
export type Verdict = AdmissionOutcome | Promise<AdmissionOutcome>;

const ALLOWED: AdmissionOutcome = { allowed: true, reason: 'Allowed', reserved: false };
const TTL_MS = 30_000;
const BARRIER_MS = 1500;

/**
 * Answers AdmissionReviews (design §4): tenant namespaces, what is created or changed inside them, and TAI's
 * own kinds. Synchronous from reading usage to reserving, so that concurrent reviews, each answered in one turn
 * of the event loop, cannot together pass a cap; on reservations shared by several replicas (`shared`), the
 * store's atomic step plays that part. Deletes are always allowed (a suspended tenant may clean up),
 * and so is anything already being deleted (finalizer removal must not wedge).
 */
export class AdmissionController {
  readonly #o: AdmissionControllerOptions;
  /** TAI objects this webhook admitted (`Kind/name` → until when to wait for them), not yet delivered by the watch. */
  readonly #admitted = new Map<string, number>();

  constructor(options: AdmissionControllerOptions) {
    this.#o = options;
  }

  /**
   * Answers a review. Read-your-writes first: `kubectl apply` of an SKU and then a Tenant on it, or of a Tenant
   * and then its namespace, sends the second request milliseconds after admitting the first, possibly before
   * the watch has delivered it; such a review waits (briefly, bounded) for what it references. Then `decide`.
   */
  async review(req: AdmissionRequest): Promise<AdmissionOutcome> {
    await this.awaitReferences(req);
    return this.verdict(req);
  }

  /** Waits (briefly, bounded) for the TAI objects a request references that this webhook admitted moments ago. */
  async awaitReferences(req: AdmissionRequest): Promise<void> {
    const waiting = references(req).filter((key) => this.#pending(key));
    if (waiting.length > 0) await until(() => waiting.every((key) => this.#o.policy.holds(key)), this.#o.barrierMs ?? BARRIER_MS);
    // On shared reservations another replica may have admitted the namespace moments ago, and this one has no
    // reservation to place its Pods by: they wait for the watch (the API server's NamespaceLifecycle lets a
    // create through only into a namespace that exists), rather than pass uncounted.
    if (this.#o.shared && this.#unplaced(req)) await until(() => !this.#unplaced(req), this.#o.barrierMs ?? BARRIER_MS);
  }

  /** A create in a namespace neither the watch nor a reservation here has told this replica of. */
  #unplaced(req: AdmissionRequest): boolean {
    const ns = req.namespace;
    if (req.operation !== 'CREATE' || !ns || (req.resource.group === '' && req.resource.resource === 'namespaces')) return false;
    return this.#o.ledger.labels(ns) === undefined && this.#o.reservations.namespaceLabels(ns, this.#o.now()) === undefined;
  }

  /**
   * Undoes what `decide` kept for a request whose answer never reached the API server (its receipt could not be
   * written): its reservation, and the wait of later reviews for the TAI object it admitted.
   */
  release(req: AdmissionRequest): void {
    this.#o.reservations.release(req.uid);
    this.#o.shared?.release(req.uid);
    if (req.resource.group === 'tai.dev') this.#admitted.delete(`${req.kind.kind}/${nameOf(req)}`);
  }

  /** `verdict` on in-process reservations only: synchronous from reading usage to reserving. */
  decide(req: AdmissionRequest): AdmissionOutcome {
    const v = this.verdict(req);
    if (v instanceof Promise) throw new Error('decide: on shared reservations a request that adds to a cap is decided asynchronously; call verdict');
    return v;
  }

  /**
   * The verdict from what the governor and the informers hold now. In-process, synchronous from reading usage to
   * reserving; on shared reservations, a request that adds to a cap is decided by the store's atomic step.
   */
  verdict(req: AdmissionRequest): Verdict {
    if (req.operation === 'DELETE' || req.operation === 'CONNECT' || req.subResource) return ALLOWED;
    if (record(record(req.object).metadata).deletionTimestamp) return ALLOWED;
    const { group, resource } = req.resource;
    if (group === 'tai.dev') return this.#policyObject(req);
    if (group === '' && resource === 'namespaces') return this.#namespace(req);
    if (group === '' && isCountedResource(resource)) return this.#counted(req, resource);
    return this.#other(req, `${group}/${resource}`);
  }

  #policyObject(req: AdmissionRequest): AdmissionOutcome {
    const verdict = outcome(checkPolicyObject({ object: req.object, skus: this.#o.policy.skus(), tenants: this.#o.policy.tenants?.() }));
    if (verdict.allowed && req.dryRun !== true) this.#admitted.set(`${req.kind.kind}/${nameOf(req)}`, this.#o.now() + TTL_MS);
    return verdict;
  }

  /** Admitted by this webhook recently and not yet held by the governor. */
  #pending(key: string): boolean {
    const until = this.#admitted.get(key);
    if (until === undefined) return false;
    if (until > this.#o.now() && !this.#o.policy.holds(key)) return true;
    this.#admitted.delete(key);
    return false;
  }

  #namespace(req: AdmissionRequest): Verdict {
    const name = nameOf(req);
    const labels = labelsOf(req.object);
    const member = this.#o.membership.of(labels);
    if (!member) return ALLOWED;
    const tenant = 'tenant' in member ? member.tenant : member.unknownTenant;
    const old = req.oldObject ? this.#o.membership.of(labelsOf(req.oldObject)) : undefined;
    const joins = !old || !('tenant' in old) || old.tenant !== tenant;
    const adds: ResourceVector = joins ? new Map([['namespaces', objects(1)]]) : new Map();
    return this.#judge(req, { key: objectKey('namespaces', name, name), adds, labels }, this.#capInput(tenant, member, `namespace ${name}`, adds));
  }

  #counted(req: AdmissionRequest, resource: CountedResource): Verdict {
    const placed = this.#place(req.namespace);
    if (!placed) return ALLOWED;
    const after = objectUsage(resource, record(req.object));
    const adds = growth(after, req.oldObject ? objectUsage(resource, record(req.oldObject)) : undefined);
    const subject = `${req.kind.kind} ${req.namespace}/${nameOf(req)}`;
    const key = objectKey(resource, req.namespace ?? '', nameOf(req));
    return this.#judge(req, { key, adds }, this.#capInput(placed.tenant, placed.member, subject, adds));
  }

  /** Workloads get warnings when their Pods would pass a cap; anything else only the tenant checks. */
  #other(req: AdmissionRequest, groupResource: string): AdmissionOutcome {
    const placed = this.#place(req.namespace);
    if (!placed) return ALLOWED;
    const input = this.#capInput(placed.tenant, placed.member, `${req.kind.kind} ${req.namespace}/${nameOf(req)}`, new Map());
    const denial = runChecks(CAP_CHECKS, input);
    if (denial) return { ...outcome(denial), tenant: placed.tenant };
    if (!WORKLOADS[groupResource] || !input.compiled) return { ...ALLOWED, tenant: placed.tenant };
    const warnings = workloadWarnings({ workload: groupResource, object: req.object, oldObject: req.oldObject, tenant: placed.tenant, compiled: input.compiled, used: input.used });
    return { ...ALLOWED, tenant: placed.tenant, warnings };
  }

  /** The tenant of a namespace, from the watch or, for one admitted moments ago, from its reservation. */
  #place(namespace: string | undefined): { tenant: string; member: NonNullable<ReturnType<TenantMembership['of']>> } | undefined {
    if (!namespace) return undefined;
    const labels = this.#o.ledger.labels(namespace) ?? this.#o.reservations.namespaceLabels(namespace, this.#o.now());
    const member = labels && this.#o.membership.of(labels);
    if (!member) return undefined;
    return { tenant: 'tenant' in member ? member.tenant : member.unknownTenant, member };
  }

  #capInput(tenant: string, member: NonNullable<ReturnType<TenantMembership['of']>>, subject: string, adds: ResourceVector): CapInput {
    const compiled = 'tenant' in member ? this.#o.policy.tenant(tenant) : undefined;
    const used = addInto(this.#o.membership.usageOf(tenant), this.#o.reservations.pending(tenant, this.#o.now()));
    return { tenant, compiled, subject, used, adds, labelledBy: `its namespace is labelled for tenant "${tenant}"` };
  }

  /** Runs the cap checks; an admitted request that adds anything reserves it (unless it is a dry run). */
  #judge(req: AdmissionRequest, target: Target, input: CapInput): Verdict {
    const caps = this.#o.shared && input.compiled ? cappedBy(input.compiled.resources, target.adds) : undefined;
    if (caps !== undefined && caps.size > 0) return this.#judgeShared(req, target, input, caps);
    const denial = runChecks(CAP_CHECKS, input);
    if (denial) return { ...outcome(denial), tenant: input.tenant };
    const reserve = target.adds.size > 0 && req.dryRun !== true;
    if (reserve) this.#reserveHere(req, target, input.tenant);
    return { ...ALLOWED, tenant: input.tenant, reserved: reserve };
  }

  /**
   * On shared reservations: the tenant checks here, then the caps in the store (with what the informers count
   * here). Kept here too, the reservation places Pods in a namespace admitted moments ago and names what a
   * failed receipt releases. The store out of reach refuses it: replicas could not tell what the others admitted.
   */
  async #judgeShared(req: AdmissionRequest, target: Target, input: CapInput, caps: ReadonlyMap<string, number>): Promise<AdmissionOutcome> {
    const { tenant } = input;
    const denial = runChecks(TENANT_CHECKS, input);
    if (denial) return { ...outcome(denial), tenant };
    const reserve = req.dryRun !== true;
    const ttlMs = this.#o.reservationTtlMs ?? TTL_MS;
    const observed = (): ResourceVector => this.#o.membership.usageOf(tenant);
    const v = await this.#o.shared!.reserve({ tenant, uid: req.uid, key: target.key, replaces: replacedVersion(req), caps, adds: target.adds, observed, reserve, ttlMs });
    if (v.outcome === 'unavailable') return { ...outcome(countersUnavailable(input, caps, v.error)), tenant };
    if (v.outcome === 'exceeded') return { ...outcome(runChecks(CAP_CHECKS, { ...input, used: v.used }) ?? deny('ResourceCapExceeded', `tenant "${tenant}": ${input.subject} would pass a cap`)), tenant };
    if (reserve) this.#reserveHere(req, target, tenant);
    return { ...ALLOWED, tenant, reserved: reserve };
  }

  #reserveHere(req: AdmissionRequest, target: Target, tenant: string): void {
    const expiresAt = this.#o.now() + (this.#o.reservationTtlMs ?? TTL_MS);
    this.#o.reservations.reserve({ uid: req.uid, tenant, key: target.key, amounts: target.adds, expiresAt, replaces: replacedVersion(req), labels: target.labels });
  }
}

/** What a request is for: its object's key, what it adds, and a namespace's labels. */
interface Target {
  key: string;
  adds: ResourceVector;
  labels?: Record<string, string>;
}

/** Why a request adding to a cap is refused while the shared reservations cannot be reached. */
function countersUnavailable(input: CapInput, caps: ReadonlyMap<string, number>, error: string): Denial {
  return deny(
    'CountersUnavailable',
    `tenant "${input.tenant}": ${input.subject} adds to its ${[...caps.keys()].join(', ')} cap, and the reservations shared by TAI's replicas cannot be reached (${error}); ` +
      'it is refused until they can, so that replicas together never pass a cap: retry shortly',
  );
}

/** For an update: the resourceVersion it replaces (only a newer version of the object fulfils its reservation). */
function replacedVersion(req: AdmissionRequest): string | undefined {
  return req.operation === 'UPDATE' ? versionOf(req.oldObject) : undefined;
}

/** The TAI objects a request needs to exist: a Tenant's SKUs, an SKU's parent, a namespace's tenant. */
function references(req: AdmissionRequest): string[] {
  const spec = record(record(req.object).spec);
  if (req.resource.group === 'tai.dev' && req.kind.kind === 'Tenant') {
    return [spec.sku, ...(Array.isArray(spec.addOns) ? spec.addOns.map((a) => record(a).sku) : [])].filter((s) => typeof s === 'string').map((s) => `SKU/${s}`);
  }
  if (req.resource.group === 'tai.dev' && req.kind.kind === 'SKU') return typeof spec.extends === 'string' ? [`SKU/${spec.extends}`] : [];
  const tenant = labelsOf(req.object)[TENANT_LABEL];
  return req.resource.group === '' && req.resource.resource === 'namespaces' && typeof tenant === 'string' ? [`Tenant/${tenant}`] : [];
}

/** Resolves when `done()` holds or after `ms`, checking every few milliseconds. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}

function outcome(denial: Denial | undefined): AdmissionOutcome {
  return denial ? { allowed: false, reason: denial.reason, message: denial.message, cap: denial.cap, reserved: false } : ALLOWED;
}

function nameOf(req: AdmissionRequest): string {
  const meta = record(record(req.object ?? req.oldObject).metadata);
  return typeof meta.name === 'string' && meta.name ? meta.name : (req.name ?? '');
}

/** An object's labels; values that are not well-formed text (the API server never stores such) are left out. */
function labelsOf(object: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(record(record(record(object).metadata).labels)).filter(([, v]) => typeof v === 'string' && v.isWellFormed())) as Record<string, string>;
}

function versionOf(object: unknown): string | undefined {
  const v = record(record(object).metadata).resourceVersion;
  return typeof v === 'string' ? v : undefined;
}
