import { KubeApiError, type KubeApi, type KubeObject } from '../kube/index.ts';
import { metaTime } from './meta-time.ts';

export interface EventInput {
  /** The object the event is about. */
  object: KubeObject;
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. SKUNotFound, QuotaThreshold. */
  reason: string;
  message: string;
}

const MAX_REMEMBERED = 4096;

/**
 * Kubernetes Events, aggregated as client-go's correlator does: the same object, type, reason and message
 * again bumps `count` and `lastTimestamp` on the existing Event instead of creating another, so a tenant
 * hovering at a threshold or a Tenant that stays broken does not flood `kubectl get events`.
 * Events about cluster-scoped objects (all of TAI's) must live in the `default` namespace (the API server
 * refuses any other), which is where `kubectl describe tenant NAME` finds them.
 */
export class EventRecorder {
  readonly #api: KubeApi;
  readonly #component: string;
  readonly #instance: string;
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  /** Aggregation key → the Event that holds it. */
  readonly #seen = new Map<string, { namespace: string; name: string; count: number }>();
  #written = 0;

  constructor(options: { api: KubeApi; component: string; instance: string; now: () => number; log: (message: string) => void }) {
    this.#api = options.api;
    this.#component = options.component;
    this.#instance = options.instance;
    this.#now = options.now;
    this.#log = options.log;
  }

  /** Events created or updated so far. */
  get written(): number {
    return this.#written;
  }

  /** Records an event; never throws (a lost event is logged, not fatal). */
  async record(e: EventInput): Promise<void> {
    try {
      await this.#write(e);
      this.#written++;
    } catch (error) {
      this.#log(`event ${e.reason} for ${e.object.kind}/${e.object.metadata.name} not recorded: ${(error as Error).message}`);
    }
  }

  async #write(e: EventInput): Promise<void> {
    const key = [e.object.metadata.uid ?? e.object.metadata.name, e.type, e.reason, e.message].join('\u0000');
    const now = metaTime(this.#now());
    const seen = this.#seen.get(key);
    if (seen) {
      try {
        await this.#api.request('PATCH', `/api/v1/namespaces/${seen.namespace}/events/${seen.name}`, { body: { count: seen.count + 1, lastTimestamp: now } });
        seen.count++;
        return;
      } catch (error) {
        if (!(error instanceof KubeApiError && error.status === 404)) throw error;
        this.#seen.delete(key); // expired by the API server's event TTL: start a new one
      }
    }
    const namespace = e.object.metadata.namespace ?? 'default';
    const name = `${e.object.metadata.name}.${this.#now().toString(16)}${Math.floor(Math.random() * 0xfff).toString(16)}`;
    await this.#api.request('POST', `/api/v1/namespaces/${namespace}/events`, { body: this.#event(e, { namespace, name, now }) });
    if (this.#seen.size >= MAX_REMEMBERED) this.#seen.delete(this.#seen.keys().next().value as string);
    this.#seen.set(key, { namespace, name, count: 1 });
  }

  #event(e: EventInput, at: { namespace: string; name: string; now: string }): Record<string, unknown> {
    const { metadata, apiVersion, kind } = e.object;
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: at.name, namespace: at.namespace },
      involvedObject: { apiVersion, kind, name: metadata.name, uid: metadata.uid, resourceVersion: metadata.resourceVersion, ...(metadata.namespace ? { namespace: metadata.namespace } : {}) },
      type: e.type,
      reason: e.reason,
      message: e.message.slice(0, 1024),
      count: 1,
      firstTimestamp: at.now,
      lastTimestamp: at.now,
      source: { component: this.#component },
      reportingComponent: this.#component,
      reportingInstance: this.#instance,
    };
  }
}
