import { KubeApiError, type KubeApi } from '../kube/index.ts';

export interface LeaderElectionOptions {
  api: KubeApi;
  namespace: string;
  /** The Lease's name: every replica of one deployment uses the same. */
  name: string;
  /** This replica: unique per process (hostname + pid by default). */
  identity: string;
  /** How long a lease holds without renewal (default 15 s, as client-go). */
  leaseDurationMs?: number;
  /** How often the holder renews and a follower retries (default 2 s). */
  retryPeriodMs?: number;
  /** The holder steps down when it cannot renew for this long (default 10 s; less than the lease duration). */
  renewDeadlineMs?: number;
  now: () => number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  log?: (message: string) => void;
}

/** How one election round ended: we hold the lease, another replica does, or the API could not be asked. */
type Round = 'held' | 'other' | 'error';

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's rules: a replica takes the lease when it
 * is free or its holder has not renewed within the lease duration; updates carry the resourceVersion read, so
 * two replicas cannot both win; the leader renews every retry period and steps down if it cannot renew before
 * the renew deadline (before another replica may take over). Expiry is judged by when this replica last saw
 * the lease change, not by the holder's clock.
 */
export class LeaderElector {
  readonly #o: Required<Omit<LeaderElectionOptions, 'log'>> & Pick<LeaderElectionOptions, 'log'>;
  #leading = false;
  #lastRenew = 0;
  /** The lease as last observed, and when (our clock) its renewTime or holder last changed. */
  #observed: { key: string; at: number } | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.#o = { leaseDurationMs: 15_000, retryPeriodMs: 2_000, renewDeadlineMs: 10_000, ...options };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  start(): void {
    this.#stopped = false;
    this.#tick();
  }

  /** Stops electing; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#setLeading(false);
    await this.#release().catch((e: unknown) => this.#o.log?.(`leader election: releasing the lease failed: ${(e as Error).message}`));
  }

  #tick(): void {
    this.#attempt()
      .catch((e: unknown): Round => {
        if (e instanceof KubeApiError && e.status === 409) return 'other'; // another replica wrote first
        this.#o.log?.(`leader election: ${(e as Error).message}`);
        return 'error';
      })
      .then((round) => {
        this.#settle(round);
        if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#o.retryPeriodMs);
      })
      .catch(() => undefined);
  }

  /** A leader that cannot reach the API server keeps leading until its renew deadline, then steps down. */
  #settle(round: Round): void {
    if (this.#stopped) return;
    if (round === 'held') {
      this.#lastRenew = this.#o.now();
      this.#setLeading(true);
    } else if (round === 'other' || this.#o.now() - this.#lastRenew > this.#o.renewDeadlineMs) {
      this.#setLeading(false);
    }
  }

  /** One round: read the lease; take it or renew it if allowed. */
  async #attempt(): Promise<Round> {
    const lease = await this.#get();
    const nowIso = microTime(this.#o.now());
    if (lease === undefined) {
      await this.#o.api.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases`, { body: this.#lease(undefined, nowIso) });
      return 'held';
    }
    const holder = lease.spec.holderIdentity ?? '';
    if (holder !== this.#o.identity && holder !== '' && !this.#expired(lease)) return 'other';
    await this.#o.api.request('PUT', this.#path(), { body: this.#lease(lease, nowIso) });
    return 'held';
  }

  #lease(old: Lease | undefined, nowIso: string): Lease {
    const ours = old?.spec.holderIdentity === this.#o.identity;
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace, ...(old ? { resourceVersion: old.metadata.resourceVersion } : {}) },
      spec: {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: ours && old?.spec.acquireTime ? old.spec.acquireTime : nowIso,
        renewTime: nowIso,
        leaseTransitions: (old?.spec.leaseTransitions ?? 0) + (ours || !old ? 0 : 1),
      },
    };
  }

  /** Expired when the lease has not changed, as seen by us, for its whole duration. */
  #expired(lease: Lease): boolean {
    const key = `${lease.spec.holderIdentity ?? ''}|${lease.spec.renewTime ?? ''}`;
    if (this.#observed?.key !== key) this.#observed = { key, at: this.#o.now() };
    const duration = (lease.spec.leaseDurationSeconds ?? this.#o.leaseDurationMs / 1000) * 1000;
    return this.#o.now() - this.#observed.at > duration;
  }

  async #get(): Promise<Lease | undefined> {
    try {
      return await this.#o.api.request<Lease>('GET', this.#path());
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  async #release(): Promise<void> {
    const lease = await this.#get();
    if (lease?.spec.holderIdentity !== this.#o.identity) return;
    await this.#o.api.request('PUT', this.#path(), {
      body: { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(this.#o.now()) } },
    });
  }

  #setLeading(leading: boolean): void {
    if (this.#leading === leading) return;
    this.#leading = leading;
    this.#o.log?.(`leader election: ${this.#o.identity} ${leading ? 'is now the leader' : 'stopped leading'} (lease ${this.#o.namespace}/${this.#o.name})`);
    if (leading) this.#o.onStartedLeading();
    else this.#o.onStoppedLeading();
  }

  #path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.#o.namespace}/leases/${this.#o.name}`;
  }
}

/** A metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
