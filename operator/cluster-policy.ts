import { parseApiObject, resourceKey, type PolicyError, type TaiResource, type Tenant } from '../crds/index.ts';
import type { Clock, PolicyCompiler, PolicySnapshot, Steps } from '../governor/index.ts';
import type { Readiness } from '../readiness/index.ts';
import { runInSlices, type SliceOptions } from '../recording/run-in-slices.ts';
import { downSince, Informer, type InformerChange, type InformerOptions } from './informer.ts';
import type { KubeApi, KubeObject } from '../kube/index.ts';
import { TAI_PATHS } from './paths.ts';

/** What one compile applied: the snapshot and the `Kind/name` keys that changed to make it. */
export interface PolicyApplied {
  snapshot: PolicySnapshot;
  keys: readonly string[];
}

export interface ClusterPolicyOptions {
  api: KubeApi;
  compiler: PolicyCompiler;
  clock: Clock;
  log: (message: string) => void;
  /** For /readyz: where policy comes from, e.g. `kubernetes https://10.0.0.1:443`. */
  source: string;
  /** Informer tuning (tests shorten the watchdog and backoff). */
  informer?: Pick<InformerOptions<KubeObject>, 'backoff' | 'silenceMs' | 'watchTimeoutSeconds'>;
  /** How a change is applied in slices (default `runInSlices`'s: 4 ms of work, then a turn of the event loop). */
  slices?: SliceOptions;
}

/**
 * Cluster mode's policy source: SKU, Tenant and Quota informers feeding the compiler. Changes that arrive
 * together are compiled together, in slices (an SKU 70 000 tenants use recompiles them over many turns of the
 * event loop, decisions answered from the last snapshot meanwhile); changes that arrive meanwhile wait and are
 * compiled together after it. An object that fails TAI's schema
 * is held back with its errors, and the last good version of it keeps serving, as a broken file does in
 * embedded mode. While the API server is unreachable the last state keeps serving and readiness says how stale it is.
 */
export class ClusterPolicy {
  readonly informers: { skus: Informer; tenants: Informer; quotas: Informer };
  readonly #o: ClusterPolicyOptions;
  /** Changes waiting for the next compile: key → the object, or null when deleted. */
  readonly #pending = new Map<string, KubeObject | null>();
  /** Keys taken from `#pending` by the change being applied, not yet in the current snapshot. */
  readonly #inFlight = new Set<string>();
  /** What the compiler holds, as JSON, to skip no-op updates (status writes, resyncs). */
  readonly #applied = new Map<string, string>();
  readonly #invalid = new Map<string, PolicyError[]>();
  readonly #listeners: Array<(applied: PolicyApplied) => void> = [];
  #applying = false;
  #flushScheduled = false;
  #started = false;

  constructor(options: ClusterPolicyOptions) {
    this.#o = options;
    const informer = (name: string, path: string): Informer =>
      new Informer({ api: options.api, path, name, now: () => options.clock.now(), log: options.log, onChange: (c) => this.#onChange(c), ...options.informer });
    this.informers = { skus: informer('skus', TAI_PATHS.SKU), tenants: informer('tenants', TAI_PATHS.Tenant), quotas: informer('quotas', TAI_PATHS.Quota) };
  }

  /** Lists all three kinds and compiles the first snapshot; resolves when decisions can be served. */
  async start(): Promise<PolicyApplied> {
    await Promise.all(Object.values(this.informers).map((i) => i.start()));
    this.#started = true;
    return this.#flush();
  }

  stop(): void {
    for (const i of Object.values(this.informers)) i.stop();
  }

  /** Whether a snapshot being made comes from this source's apply (not a validity boundary's refresh). */
  get applying(): boolean {
    return this.#applying;
  }

  /** Subscribes to every compile after the first. */
  onApplied(listener: (applied: PolicyApplied) => void): void {
    this.#listeners.push(listener);
  }

  /** Schema errors of an object that is not being served as it stands in the cluster. */
  invalid(key: string): readonly PolicyError[] | undefined {
    return this.#invalid.get(key);
  }

  /** Whether the compiler holds this object (`Kind/name`) as it stands in the cluster, valid. */
  holds(key: string): boolean {
    return this.#applied.has(key) && !this.#pending.has(key) && !this.#inFlight.has(key);
  }

  /** The Tenant as the compiler holds it. */
  tenantResource(name: string): Tenant | undefined {
    return this.#o.compiler.resources.tenants.get(name);
  }

  readiness(): Readiness {
    const snapshot = this.#o.compiler.snapshot;
    const down = downSince(Object.values(this.informers));
    const problems = this.#invalid.size + [...snapshot.statuses.values()].filter((s) => !s.ready).length;
    return {
      ready: this.#started,
      generation: snapshot.generation,
      tenants: snapshot.tenants.size,
      problems,
      staleMs: down === undefined ? 0 : this.#o.clock.now() - down,
      source: this.#o.source,
    };
  }

  #onChange(c: InformerChange): void {
    this.#pending.set(keyOfObject(c.object), c.type === 'delete' ? null : c.object);
    this.#schedule();
  }

  /** Flushes the pending changes at the next turn; while a change is being applied, at its end. */
  #schedule(): void {
    if (!this.#started || this.#flushScheduled || this.#applying) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      // A failure (a listener's, such as a receipt that could not be appended) is not swallowed, as before slicing.
      void this.#flush().then((applied) => {
        for (const l of this.#listeners) l(applied);
      });
    });
  }

  async #flush(): Promise<PolicyApplied> {
    this.#applying = true;
    try {
      return await runInSlices(this.#flushing(), this.#o.slices);
    } finally {
      this.#applying = false;
      this.#inFlight.clear();
      if (this.#pending.size > 0) this.#schedule();
    }
  }

  /** The pending objects parsed (a step each), then the compiler's change as steps. */
  *#flushing(): Steps<PolicyApplied> {
    const upsert: TaiResource[] = [];
    const remove: string[] = [];
    const keys: string[] = [];
    const taken = [...this.#pending];
    this.#pending.clear();
    for (const [key, object] of taken) {
      keys.push(key);
      this.#inFlight.add(key);
      if (object === null) this.#forget(key, remove);
      else this.#take(key, object, upsert);
      yield;
    }
    if (upsert.length === 0 && remove.length === 0) return { snapshot: this.#o.compiler.snapshot, keys };
    const snapshot = yield* this.#o.compiler.changing({ upsert, remove }, this.#o.clock.now());
    return { snapshot, keys };
  }

  #take(key: string, object: KubeObject, upsert: TaiResource[]): void {
    const parsed = parseApiObject(object);
    if ('errors' in parsed) {
      this.#invalid.set(key, parsed.errors);
      return;
    }
    this.#invalid.delete(key);
    const json = JSON.stringify(parsed.resource.resource);
    if (this.#applied.get(key) === json) return;
    this.#applied.set(key, json);
    upsert.push(parsed.resource.resource);
  }

  #forget(key: string, remove: string[]): void {
    this.#invalid.delete(key);
    if (this.#applied.delete(key)) remove.push(key);
  }
}

/** `Kind/name` of a TAI object from the API. */
export function keyOfObject(object: KubeObject): string {
  return resourceKey({ kind: object.kind ?? '', metadata: object.metadata });
}
