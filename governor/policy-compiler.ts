import { resourceKey, type Quota, type Sku, type TaiResource, type Tenant } from '../crds/index.ts';
import { compileTenant, type TenantCompilation } from './compile-tenant.ts';
import type { CompileIssue } from './layers.ts';
import { EMPTY_SNAPSHOT, type PolicySnapshot, type ResourceStatus } from './policy-snapshot.ts';
import { isGrantActive, nextGrantBoundary } from './quota-grants.ts';
import { QuotaIndex } from './quota-index.ts';
import { resolveSku, type SkuResolution } from './resolve-sku.ts';
import { runSteps, type Steps } from './steps.ts';
import type { CompiledTenant } from './types.ts';

/** A batch of changes to the policy resources: upserts replace by `Kind/name`, removals name `Kind/name`. */
export interface PolicyChange {
  upsert?: readonly TaiResource[];
  remove?: readonly string[];
}

const READY = 'Compiled';

/**
 * Hears the next snapshot, complete but not yet current, and returns the steps of what it does before the snapshot
 * is made current (appending its reconcile receipts): they run as part of the change's steps.
 */
export type Preparer = (next: PolicySnapshot) => Iterable<void>;

/** What a compiler checks beyond the compile itself. */
export interface PolicyCompilerOptions {
  /**
   * A last check of a compiled tenant (e.g. that the receipt recording its entitlements fits in a log entry): an
   * issue refuses the new compilation like a compile error, and the last good one keeps serving.
   */
  checkTenant?: (name: string, compiled: CompiledTenant) => CompileIssue | undefined;
}

/** What one apply touches: tenants to recompile, quotas to re-status, and whether SKUs changed. */
interface Dirty {
  tenants: Set<string>;
  quotas: Set<string>;
  skus: boolean;
}

/** The next snapshot's maps while it is built: entries to set and keys to remove. */
interface Pending {
  tenants: Map<string, CompiledTenant>;
  removedTenants: string[];
  statuses: Map<string, ResourceStatus>;
  removedStatuses: string[];
}

/**
 * Compiles SKUs, Tenants and Quotas into snapshots, incrementally: a change recompiles only the tenants
 * that depend on it (through an SKU chain, an add-on, or a grant that selects them), and the new snapshot
 * shares everything else with the old one (see OverlayMap). Pure: time is passed in.
 */
export class PolicyCompiler {
  #skus = new Map<string, Sku>();
  #tenants = new Map<string, Tenant>();
  #grants = new QuotaIndex();
  #memo = new Map<string, SkuResolution>();
  /** SKU name → tenants whose plan or add-ons go through it (names of missing SKUs included). */
  #dependents = new Map<string, Set<string>>();
  #tenantSkus = new Map<string, readonly string[]>();
  /** Quota → tenant → why the grant could not apply (undefined: applied). */
  #grantIssues = new Map<string, Map<string, CompileIssue | undefined>>();
  #active = new Set<string>();
  /** SKU names that have a status in the snapshot. */
  #skuStatuses = new Set<string>();
  #snapshot: PolicySnapshot = EMPTY_SNAPSHOT;
  readonly #listeners = new Set<(snapshot: PolicySnapshot) => void>();
  readonly #preparers = new Set<Preparer>();
  readonly #checkTenant: PolicyCompilerOptions['checkTenant'];
  #applying = false;

  constructor(options: PolicyCompilerOptions = {}) {
    this.#checkTenant = options.checkTenant;
  }

  get snapshot(): PolicySnapshot {
    return this.#snapshot;
  }

  /** The resources as last applied, by kind. */
  get resources(): { skus: ReadonlyMap<string, Sku>; tenants: ReadonlyMap<string, Tenant>; quotas: ReadonlyMap<string, Quota> } {
    return { skus: this.#skus, tenants: this.#tenants, quotas: this.#grants.quotas };
  }

  /**
   * Subscribes to every new snapshot, whatever made it (`apply`, or `refresh` from a decision or a timer): the
   * listener runs synchronously once the snapshot is current and before `apply`/`refresh` return it, so before
   * any decision reads it (reconcile receipts). A listener that throws does not keep the others from hearing the
   * snapshot; the first error is rethrown to the caller once all have run. Returns a function that unsubscribes.
   */
  onSnapshot(listener: (snapshot: PolicySnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Subscribes to every next snapshot before it is made current, whatever makes it: the preparer's steps run as
   * the last steps of the change (see `changing`), so that what must be done before any decision can read the new
   * snapshot (reconcile receipts, design §5) can be spread over several turns too. Returns a function that unsubscribes.
   */
  onCompiled(preparer: Preparer): () => void {
    this.#preparers.add(preparer);
    return () => void this.#preparers.delete(preparer);
  }

  /**
   * Applies a change and returns the new snapshot (also kept as `snapshot`). A validity boundary passed since the
   * last compile is applied too: the new snapshot's `expiresAt` is the next boundary after `now`.
   */
  apply(change: PolicyChange, now: number): PolicySnapshot {
    return runSteps(this.changing(change, now));
  }

  /**
   * `apply` as steps (each a tenant compiled, a status, a slice of a map, a preparer's step), for a driver that
   * pauses between them so that decisions keep being answered meanwhile (`runInSlices`). Until the last step,
   * decisions read the current snapshot; the last makes the new one current in one go and tells the listeners.
   * Meanwhile `refresh` returns the current snapshot (a boundary passed is applied by this change or the next
   * refresh), and `apply` or another `changing` throws: run them one after the other, to the end.
   */
  changing(change: PolicyChange, now: number): Steps<PolicySnapshot> {
    this.#assertIdle();
    return this.#changing((dirty) => this.#absorbing(change, dirty), now);
  }

  /** Whether a change is being applied in steps. */
  get applying(): boolean {
    return this.#applying;
  }

  #assertIdle(): void {
    if (this.#applying) throw new Error('PolicyCompiler: a change is being applied in slices; apply the next one after it');
  }

  /** Builds the next snapshot in steps, then makes it current and tells the listeners. */
  *#changing(absorb: (dirty: Dirty) => Steps<void>, now: number): Steps<PolicySnapshot> {
    this.#applying = true;
    let next: PolicySnapshot;
    try {
      const dirty = this.#expired(now);
      yield* absorb(dirty);
      if (dirty.skus) this.#memo.clear();
      next = yield* this.#rebuilding(dirty, now);
      this.#snapshot = next;
    } finally {
      this.#applying = false;
    }
    this.#notify(next);
    return next;
  }

  /** The change's resources taken in, a step each. */
  *#absorbing(change: PolicyChange, dirty: Dirty): Steps<void> {
    for (const key of change.remove ?? []) {
      this.#remove(key, dirty);
      yield;
    }
    for (const r of change.upsert ?? []) {
      this.#upsert(r, dirty);
      yield;
    }
  }

  /** Recompiles what a time-boxed grant starting or ending since the last compile changes. */
  refresh(now: number): PolicySnapshot {
    const { expiresAt } = this.#snapshot;
    if (expiresAt === undefined || now < expiresAt || this.#applying) return this.#snapshot;
    return runSteps(this.#changing(function* () {}, now));
  }

  /** What grants that started or ended by `now` (and are not compiled so) make dirty. */
  #expired(now: number): Dirty {
    const dirty: Dirty = { tenants: new Set(), quotas: new Set(), skus: false };
    const { expiresAt } = this.#snapshot;
    if (expiresAt === undefined || now < expiresAt) return dirty;
    for (const q of this.#grants.quotas.values()) {
      if (isGrantActive(q, now) === this.#active.has(q.metadata.name)) continue;
      dirty.quotas.add(q.metadata.name);
      for (const t of this.#appliesTo(q)) dirty.tenants.add(t);
    }
    return dirty;
  }

  #upsert(r: TaiResource, dirty: Dirty): void {
    const name = r.metadata.name;
    if (r.kind === 'SKU') {
      this.#skus.set(name, r);
      for (const t of this.#dependents.get(name) ?? []) dirty.tenants.add(t);
      dirty.skus = true;
    } else if (r.kind === 'Tenant') {
      this.#tenants.set(name, r);
      for (const q of this.#grants.updateTenant(name, r)) dirty.quotas.add(q);
      dirty.tenants.add(name);
    } else {
      for (const t of this.#grants.upsertQuota(r, this.#tenants.values())) dirty.tenants.add(t);
      dirty.quotas.add(name);
    }
  }

  #remove(key: string, dirty: Dirty): void {
    const [kind, name = ''] = key.split('/', 2);
    if (kind === 'SKU') this.#removeSku(name, dirty);
    else if (kind === 'Tenant') {
      if (this.#tenants.delete(name)) dirty.tenants.add(name);
      for (const q of this.#grants.updateTenant(name, undefined)) dirty.quotas.add(q);
    } else if (this.#grants.quotas.has(name)) {
      for (const t of this.#grants.removeQuota(name)) dirty.tenants.add(t);
      dirty.quotas.add(name);
    }
  }

  #removeSku(name: string, dirty: Dirty): void {
    for (const t of this.#dependents.get(name) ?? []) dirty.tenants.add(t);
    dirty.skus = this.#skus.delete(name) || dirty.skus;
  }

  /** The names of the existing tenants a grant applies to. */
  #appliesTo(q: Quota): Iterable<string> {
    if (q.spec.tenant === undefined) return this.#grants.selectedBy(q.metadata.name) ?? [];
    return this.#tenants.has(q.spec.tenant) ? [q.spec.tenant] : [];
  }

  /** The next snapshot: the dirty tenants compiled, statuses, the maps derived, then the preparers' steps. */
  *#rebuilding(dirty: Dirty, now: number): Steps<PolicySnapshot> {
    const pending: Pending = { tenants: new Map(), removedTenants: [], statuses: new Map(), removedStatuses: [] };
    const sku = (n: string): SkuResolution => resolveSku(n, this.#skus, this.#memo);
    for (const name of dirty.tenants) {
      for (const q of this.#compileTenantInto(name, { pending, sku, now })) dirty.quotas.add(q);
      yield;
    }
    if (dirty.skus) this.#statusSkus(pending, sku);
    for (const q of dirty.quotas) {
      this.#statusQuota(q, { pending, now });
      yield;
    }
    const prev = this.#snapshot;
    const next: PolicySnapshot = {
      generation: prev.generation + 1,
      tenants: yield* prev.tenants.deriving(pending.tenants, pending.removedTenants),
      statuses: yield* prev.statuses.deriving(pending.statuses, pending.removedStatuses),
      changed: dirty.tenants,
      expiresAt: nextGrantBoundary(this.#grants.quotas.values(), now),
    };
    for (const prepare of [...this.#preparers]) yield* prepare(next);
    return next;
  }

  #notify(snapshot: PolicySnapshot): void {
    let failure: { error: unknown } | undefined;
    for (const listener of [...this.#listeners]) {
      try {
        listener(snapshot);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Compiles one tenant into the pending snapshot; returns the quotas whose status may have changed. */
  #compileTenantInto(name: string, c: { pending: Pending; sku: (n: string) => SkuResolution; now: number }): Iterable<string> {
    this.#forgetDependencies(name);
    const tenant = this.#tenants.get(name);
    const touched = new Set<string>();
    for (const [q, issues] of this.#grantIssues) if (issues.delete(name)) touched.add(q);
    if (!tenant) {
      c.pending.removedTenants.push(name);
      c.pending.removedStatuses.push(`Tenant/${name}`);
      return touched;
    }
    const grants = this.#grants.grantsFor(name).filter((q) => isGrantActive(q, c.now));
    const result = this.#checked(name, compileTenant({ tenant, sku: c.sku, grants }));
    this.#recordDependencies(name, result.skus);
    for (const [q, issue] of result.grantIssues) {
      touched.add(q);
      this.#grantIssueMap(q).set(name, issue);
    }
    if (result.compiled) c.pending.tenants.set(name, result.compiled);
    c.pending.statuses.set(resourceKey(tenant), statusOf(result.issue, tenant.metadata.generation));
    return touched;
  }

  #checked(name: string, result: TenantCompilation): TenantCompilation {
    const issue = result.compiled && this.#checkTenant?.(name, result.compiled);
    return issue ? { ...result, compiled: undefined, issue } : result;
  }

  #grantIssueMap(q: string): Map<string, CompileIssue | undefined> {
    let m = this.#grantIssues.get(q);
    if (!m) this.#grantIssues.set(q, (m = new Map()));
    return m;
  }

  #recordDependencies(tenant: string, skus: readonly string[]): void {
    this.#tenantSkus.set(tenant, skus);
    for (const s of skus) {
      let set = this.#dependents.get(s);
      if (!set) this.#dependents.set(s, (set = new Set()));
      set.add(tenant);
    }
  }

  #forgetDependencies(tenant: string): void {
    for (const s of this.#tenantSkus.get(tenant) ?? []) this.#dependents.get(s)?.delete(tenant);
    this.#tenantSkus.delete(tenant);
  }

  #statusSkus(pending: Pending, sku: (n: string) => SkuResolution): void {
    for (const name of this.#skuStatuses) if (!this.#skus.has(name)) pending.removedStatuses.push(`SKU/${name}`);
    this.#skuStatuses = new Set(this.#skus.keys());
    for (const s of this.#skus.values()) {
      const r = sku(s.metadata.name);
      pending.statuses.set(resourceKey(s), statusOf(r.ok ? undefined : r.issue, s.metadata.generation));
    }
  }

  #markActive(q: Quota, now: number): boolean {
    const active = isGrantActive(q, now);
    if (active) this.#active.add(q.metadata.name);
    else this.#active.delete(q.metadata.name);
    return active;
  }

  #statusQuota(name: string, c: { pending: Pending; now: number }): void {
    const q = this.#grants.quotas.get(name);
    if (!q) {
      c.pending.removedStatuses.push(`Quota/${name}`);
      this.#grantIssues.delete(name);
      this.#active.delete(name);
      return;
    }
    const active = this.#markActive(q, c.now);
    const [badTenant, issue] = [...(this.#grantIssues.get(name) ?? [])].find(([, i]) => i !== undefined) ?? [];
    const missing = q.spec.tenant !== undefined && !this.#tenants.has(q.spec.tenant);
    const problem: CompileIssue | undefined = missing
      ? { reason: 'TenantNotFound', path: 'spec.tenant', message: `spec.tenant names tenant "${q.spec.tenant}", which does not exist` }
      : issue && { ...issue, message: `tenant ${badTenant}: ${issue.message}` };
    const tenants = q.spec.tenant === undefined ? (this.#grants.selectedBy(name)?.size ?? 0) : Number(!missing);
    c.pending.statuses.set(resourceKey(q), { ...statusOf(problem, q.metadata.generation), active, tenants });
  }
}

function statusOf(issue: CompileIssue | undefined, generation: number | undefined): ResourceStatus {
  if (!issue) return { ready: true, reason: READY, message: 'compiled into the governor', generation: generation ?? 0 };
  return { ready: false, reason: issue.reason, message: issue.message, path: issue.path, generation: generation ?? 0 };
}
