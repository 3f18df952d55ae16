import type { Clock, PolicyCompiler, ThresholdEvent, UsageStore } from '../governor/index.ts';
import type { Readiness } from '../readiness/index.ts';
import { ClusterPolicy, type PolicyApplied } from './cluster-policy.ts';
import { EventRecorder } from './event-recorder.ts';
import { downSince, Informer, type InformerChange, type InformerOptions } from './informer.ts';
import { KubeApiError, type KubeApi, type KubeObject } from '../kube/index.ts';
import { LeaderElector } from './leader-election.ts';
import { countTenantNamespaces, TENANT_LABEL } from './namespace-index.ts';
import { CORE_PATHS } from './paths.ts';
import { QuotaReconciler } from './quota-reconciler.ts';
import type { ReconcileContext } from './reconcile-context.ts';
import { SkuReconciler } from './sku-reconciler.ts';
import { StatusWriter } from './status-writer.ts';
import { TenantReconciler, USAGE_STATUS_EVERY_MS } from './tenant-reconciler.ts';
import { WorkQueue } from './work-queue.ts';

export interface OperatorOptions {
  api: KubeApi;
  /** Where the API server is, for /readyz. */
  server: string;
  compiler: PolicyCompiler;
  usage: UsageStore;
  clock: Clock;
  log: (message: string) => void;
  /** This replica, for the Lease and for Events. */
  identity: string;
  lease: { namespace: string; name: string; durationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  informer?: Pick<InformerOptions<KubeObject>, 'backoff' | 'silenceMs' | 'watchTimeoutSeconds'>;
  usageEveryMs?: number;
  /** Hears every failed reconcile (metrics). */
  onReconcileError?: (kind: string) => void;
  /**
   * Hears every change the core informers see (namespaces, pods, services, PVCs). The composition root feeds
   * admission from it, so that controllers and the webhook share one cache (as a controller-runtime manager does).
   */
  onCoreChange?: (resource: CoreResource, change: InformerChange) => void;
}

/** The core resources whose informers the operator runs: namespaces, and the objects resource caps count. */
export type CoreResource = keyof typeof CORE_PATHS;

type Kind = 'SKU' | 'Tenant' | 'Quota';

/**
 * The Kubernetes side, assembled: informers keep every replica's governor hot; one replica, elected on a
 * Lease, runs the reconcilers that write status and Events. Reconciles are queued by what changed: the
 * resources of a compile, the tenants it recompiled, namespaces coming and going, usage (swept every 10 s),
 * threshold crossings, and everything once when this replica becomes the leader.
 */
export class Operator {
  readonly policy: ClusterPolicy;
  readonly core: Record<CoreResource, Informer>;
  readonly elector: LeaderElector;
  readonly events: EventRecorder;
  readonly writer: StatusWriter;
  readonly #o: OperatorOptions;
  readonly #queues: Record<Kind, WorkQueue>;
  #timers: NodeJS.Timeout[] = [];
  #unsubscribe = (): void => undefined;

  constructor(o: OperatorOptions) {
    this.#o = o;
    const now = (): number => o.clock.now();
    this.policy = new ClusterPolicy({ api: o.api, compiler: o.compiler, clock: o.clock, log: o.log, source: `kubernetes ${o.server}`, informer: o.informer });
    const core = (name: CoreResource): Informer =>
      new Informer({ api: o.api, path: CORE_PATHS[name], name, now, log: o.log, onChange: (c) => this.#coreChanged(name, c), ...o.informer });
    this.core = { namespaces: core('namespaces'), pods: core('pods'), services: core('services'), persistentvolumeclaims: core('persistentvolumeclaims') };
    this.events = new EventRecorder({ api: o.api, component: 'tai-operator', instance: o.identity, now, log: o.log });
    this.writer = new StatusWriter(o.api);
    const ctx: ReconcileContext = { snapshot: () => o.compiler.snapshot, invalid: (k) => this.policy.invalid(k), writer: this.writer, events: this.events, now };
    const { skus, tenants, quotas } = this.policy.informers;
    const sku = new SkuReconciler(skus, ctx);
    const quota = new QuotaReconciler(quotas, ctx);
    const tenant = new TenantReconciler({ tenants, ctx, usage: o.usage, usageEveryMs: o.usageEveryMs, namespaces: (n) => countTenantNamespaces(this.core.namespaces, o.compiler.resources.tenants.get(n)) });
    this.#queues = {
      SKU: this.#queue('SKU', (n) => sku.reconcile(n)),
      Quota: this.#queue('Quota', (n) => quota.reconcile(n)),
      Tenant: this.#queue('Tenant', async (n) => {
        const r = await tenant.reconcile(n);
        if (r.requeueAfterMs !== undefined) this.#queues.Tenant.addAfter(n, r.requeueAfterMs);
      }),
    };
    this.elector = new LeaderElector({
      api: o.api,
      namespace: o.lease.namespace,
      name: o.lease.name,
      identity: o.identity,
      leaseDurationMs: o.lease.durationMs,
      renewDeadlineMs: o.lease.renewDeadlineMs,
      retryPeriodMs: o.lease.retryPeriodMs,
      now,
      log: o.log,
      onStartedLeading: () => this.#enqueueAll(),
      onStoppedLeading: () => undefined,
    });
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** Lists and compiles (resolves when decisions can be served), then starts the election and the sweeps. */
  async start(): Promise<PolicyApplied> {
    // Admission answers from the core informers' caches, so they are listed before anything is served.
    const [first] = await Promise.all([this.policy.start(), ...Object.values(this.core).map((i) => i.start())]);
    this.policy.onApplied((a) => this.#applied(a));
    // A validity boundary (the server's one timer, or a decision that found it passed) changes Quotas' `active`.
    this.#unsubscribe = this.#o.compiler.onSnapshot((snapshot) => {
      if (!this.policy.applying) this.#applied({ snapshot, keys: [...this.policy.informers.quotas.list()].map((q) => `Quota/${q.metadata.name}`) });
    });
    this.elector.start();
    const usageEvery = this.#o.usageEveryMs ?? USAGE_STATUS_EVERY_MS;
    this.#timers.push(setInterval(() => this.#sweepUsage(), usageEvery));
    for (const t of this.#timers) t.unref();
    return first;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#unsubscribe();
    for (const q of Object.values(this.#queues)) q.stop();
    this.policy.stop();
    for (const i of Object.values(this.core)) i.stop();
    await this.elector.stop();
  }

  /** Threshold crossings become Events on the Tenant (and refresh its usage status). */
  onThreshold(e: ThresholdEvent): void {
    if (!this.isLeader) return;
    const tenant = this.policy.informers.tenants.get(e.tenant);
    if (tenant) {
      const message = `${e.metric} crossed ${e.threshold}%: ${e.used} of ${e.limit} used`;
      void this.events.record({ object: tenant, type: e.threshold >= 100 ? 'Warning' : 'Normal', reason: 'QuotaThreshold', message });
    }
    this.#queues.Tenant.add(e.tenant);
  }

  /** Readiness: ready once the first snapshot is compiled; stale while any watch is down. */
  readiness(): Readiness {
    const r = this.policy.readiness();
    const down = downSince([...Object.values(this.policy.informers), ...Object.values(this.core)]);
    return { ...r, staleMs: down === undefined ? 0 : this.#o.clock.now() - down, operator: { leader: this.isLeader, statusWrites: this.writer.writes, events: this.events.written } };
  }

  /** Resolves when every queue is empty (tests; shutdown). */
  async drained(): Promise<void> {
    await Promise.all(Object.values(this.#queues).map((q) => q.drained()));
  }

  #queue(kind: Kind, handle: (name: string) => Promise<unknown>): WorkQueue {
    return new WorkQueue({
      // Only the leader writes; a follower's queue stays empty (see #add), this is the last guard.
      handle: async (name) => void (this.isLeader ? await handle(name) : undefined),
      onError: (name, e) => {
        // A conflict means our cache was behind our own last write; the retry reads the newer object.
        if (e instanceof KubeApiError && e.status === 409) return;
        this.#o.onReconcileError?.(kind);
        this.#o.log(`reconcile ${kind}/${name} failed, will retry: ${(e as Error).message}`);
      },
    });
  }

  #add(kind: Kind, name: string): void {
    if (this.isLeader) this.#queues[kind].add(name);
  }

  #applied(a: PolicyApplied): void {
    if (!this.isLeader) return;
    let skus = false;
    for (const key of a.keys) {
      const [kind, name] = key.split('/', 2) as [Kind, string];
      skus ||= kind === 'SKU';
      this.#add(kind, name);
    }
    for (const t of a.snapshot.changed) this.#add('Tenant', t);
    if (skus) for (const s of this.policy.informers.skus.list()) this.#add('SKU', s.metadata.name);
    if (a.keys.length > 0) for (const q of this.policy.informers.quotas.list()) this.#add('Quota', q.metadata.name);
  }

  /** Core objects go to whoever listens (admission's ledger); namespaces also queue the tenants they may belong to. */
  #coreChanged(resource: CoreResource, c: InformerChange): void {
    this.#o.onCoreChange?.(resource, c);
    if (resource === 'namespaces') this.#namespaceChanged(c.object);
  }

  #namespaceChanged(ns: KubeObject): void {
    const label = ns.metadata.labels?.[TENANT_LABEL];
    if (label) this.#add('Tenant', label);
    for (const t of this.#o.compiler.resources.tenants.values()) if (t.spec.namespaceSelector) this.#add('Tenant', t.metadata.name);
  }

  #sweepUsage(): void {
    if (!this.isLeader) return;
    const touched = new Set<string>();
    for (const cell of this.#o.usage.cells()) touched.add(cell.tenant);
    for (const t of touched) this.#add('Tenant', t);
  }

  #enqueueAll(): void {
    const { skus, tenants, quotas } = this.policy.informers;
    for (const o of skus.list()) this.#add('SKU', o.metadata.name);
    for (const o of tenants.list()) this.#add('Tenant', o.metadata.name);
    for (const o of quotas.list()) this.#add('Quota', o.metadata.name);
  }
}
