import { isGone, type KubeApi, type KubeList, type KubeObject, type WatchEvent } from '../kube/index.ts';

/** What an informer tells its owner: an object added or changed, or one gone. */
export type InformerChange<T extends KubeObject = KubeObject> = { type: 'upsert'; object: T } | { type: 'delete'; object: T };

export interface InformerOptions<T extends KubeObject> {
  api: KubeApi;
  /** The collection to list and watch, e.g. `/apis/tai.dev/v1alpha1/tenants` or `/api/v1/pods`. */
  path: string;
  /** For log lines: `tenants`, `pods`. */
  name: string;
  now: () => number;
  onChange: (change: InformerChange<T>) => void;
  /** Called after every complete list (the first one and every relist). */
  onSynced?: () => void;
  log?: (message: string) => void;
  /** Reconnect backoff: doubles from `initialMs` up to `maxMs`, with jitter (default 200 ms → 30 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** The watchdog restarts a watch that has shown no sign of life for this long (default 90 s). */
  silenceMs?: number;
  /** Asks the API server to end each watch after about this long, so connections are renewed (default 300 s). */
  watchTimeoutSeconds?: number;
}

/** How an informer's view of the API server is doing. */
export interface InformerHealth {
  /** A first list has completed: the cache holds the whole collection as of some moment. */
  synced: boolean;
  /** Since when listing or watching has been failing; undefined while connected. */
  downSince: number | undefined;
  /** Watches restarted by the watchdog, relists after 410 Gone, failed connection attempts. */
  restarts: { watchdog: number; gone: number; failures: number };
}

const LIST_PAGE = 500;

/**
 * List + watch of one collection into a cache, kept current through every failure the API server or the
 * network can produce: a watch that ends is resumed from the last resourceVersion (bookmarks keep it fresh);
 * a 410 Gone relists and reports what changed meanwhile, deletions included; failures retry with exponential
 * backoff and jitter; and a watchdog restarts a watch that has gone silent without ending, which the HTTP
 * stack alone does not always notice (client-node issues #596, #958).
 */
export class Informer<T extends KubeObject = KubeObject> {
  readonly #o: Required<Omit<InformerOptions<T>, 'onSynced' | 'log'>> & Pick<InformerOptions<T>, 'onSynced' | 'log'>;
  readonly #cache = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  #downSince: number | undefined;
  #restarts = { watchdog: 0, gone: 0, failures: 0 };
  #delayMs = 0;
  /** Identifies the current watch; events and endings of older ones are ignored. */
  #attempt = 0;
  #abort: (() => void) | undefined;
  /** The attempt number of the watch in flight (connecting or streaming), if any. */
  #watching: number | undefined;
  #lastSign = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = true;

  constructor(options: InformerOptions<T>) {
    this.#o = { backoff: { initialMs: 200, maxMs: 30_000 }, silenceMs: 90_000, watchTimeoutSeconds: 300, ...options };
  }

  /** Starts listing and watching; resolves after the first complete list (retrying until there is one). */
  start(): Promise<void> {
    this.#stopped = false;
    const period = Math.max(10, Math.min(this.#o.silenceMs / 4, 5_000));
    this.#watchdog = setInterval(() => this.#checkSilence(), period);
    this.#watchdog.unref();
    return new Promise((resolve) => {
      const onSynced = this.#o.onSynced;
      this.#o.onSynced = () => {
        this.#o.onSynced = onSynced;
        onSynced?.();
        resolve();
      };
      this.#relist();
    });
  }

  stop(): void {
    this.#stopped = true;
    this.#attempt++;
    clearInterval(this.#watchdog);
    clearTimeout(this.#retry);
    this.#abort?.();
  }

  /** The cached object by `name` or `namespace/name`. */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object. */
  list(): IterableIterator<T> {
    return this.#cache.values();
  }

  get health(): InformerHealth {
    return { synced: this.#synced, downSince: this.#downSince, restarts: { ...this.#restarts } };
  }

  #relist(): void {
    const attempt = ++this.#attempt;
    this.#listAll()
      .then((list) => {
        if (attempt !== this.#attempt) return;
        this.#replace(list);
        this.#connected();
        this.#o.onSynced?.();
        this.#watch();
      })
      .catch((error: unknown) => this.#failed(attempt, error, 'list'));
  }

  async #listAll(): Promise<KubeList<T>> {
    const items: T[] = [];
    let page: KubeList<T> | undefined;
    do {
      page = await this.#o.api.request<KubeList<T>>('GET', this.#o.path, { query: { limit: LIST_PAGE, continue: page?.metadata.continue } });
      items.push(...page.items);
    } while (page.metadata.continue);
    return { metadata: page.metadata, items };
  }

  /** Makes the cache equal to a fresh list, reporting every difference (objects deleted while we were away too). */
  #replace(list: KubeList<T>): void {
    const seen = new Set<string>();
    for (const object of list.items) {
      const key = keyOf(object);
      seen.add(key);
      if (this.#cache.get(key)?.metadata.resourceVersion === object.metadata.resourceVersion) continue;
      this.#cache.set(key, object);
      this.#o.onChange({ type: 'upsert', object });
    }
    for (const [key, object] of this.#cache) {
      if (seen.has(key)) continue;
      this.#cache.delete(key);
      this.#o.onChange({ type: 'delete', object });
    }
    this.#resourceVersion = list.metadata.resourceVersion ?? '';
    this.#synced = true;
  }

  #watch(): void {
    if (this.#stopped) return;
    const attempt = ++this.#attempt;
    this.#watching = attempt;
    this.#lastSign = this.#o.now();
    const query = {
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      // Spread renewals so that many informers do not reconnect in step.
      timeoutSeconds: Math.round(this.#o.watchTimeoutSeconds * (0.8 + Math.random() * 0.2)),
    };
    this.#o.api
      .watch(this.#o.path, query, (e) => attempt === this.#attempt && this.#onEvent(e), (error) => this.#ended(attempt, error))
      .then((handle) => {
        if (attempt !== this.#attempt) return handle.abort();
        this.#abort = () => handle.abort();
        this.#connected();
      })
      .catch((error: unknown) => this.#ended(attempt, error));
  }

  #onEvent(e: WatchEvent): void {
    this.#lastSign = this.#o.now();
    if (e.type === 'ERROR') return this.#watchError(e.object);
    const rv = e.object.metadata.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (e.type === 'BOOKMARK') return;
    const object = e.object as T;
    const key = keyOf(object);
    if (e.type === 'DELETED') {
      this.#cache.delete(key);
      this.#o.onChange({ type: 'delete', object });
      return;
    }
    this.#cache.set(key, object);
    this.#o.onChange({ type: 'upsert', object });
  }

  /** An ERROR event ends the watch: 410 means our resourceVersion is compacted away, so relist. */
  #watchError(status: { code?: number; message?: string }): void {
    const attempt = this.#attempt;
    this.#abandon();
    if (status.code === 410) {
      this.#restarts.gone++;
      this.#o.log?.(`informer ${this.#o.name}: resourceVersion too old (410 Gone), relisting`);
      this.#relist();
      return;
    }
    this.#failed(attempt, new Error(`watch error ${status.code ?? ''}: ${status.message ?? 'unknown'}`), 'watch');
  }

  /** A watch ended: a clean end (server timeout, client inactivity timer) resumes at once; errors back off. */
  #ended(attempt: number, error: unknown): void {
    if (attempt !== this.#attempt || this.#stopped) return;
    this.#abort = undefined;
    if (isGone(error)) {
      this.#restarts.gone++;
      this.#relist();
    } else if (error === null || error === undefined || (error as Error).name === 'TimeoutError') {
      this.#watch();
    } else {
      this.#failed(attempt, error, 'watch');
    }
  }

  #failed(attempt: number, error: unknown, what: 'list' | 'watch'): void {
    if (attempt !== this.#attempt || this.#stopped) return;
    this.#restarts.failures++;
    this.#downSince ??= this.#o.now();
    const { initialMs, maxMs } = this.#o.backoff;
    this.#delayMs = Math.min(maxMs, this.#delayMs === 0 ? initialMs : this.#delayMs * 2);
    const delay = Math.round(this.#delayMs * (0.5 + Math.random() / 2));
    this.#o.log?.(`informer ${this.#o.name}: ${what} failed (${(error as Error).message ?? String(error)}), retrying in ${delay} ms`);
    this.#attempt++;
    this.#retry = setTimeout(() => (what === 'list' || !this.#synced ? this.#relist() : this.#watch()), delay);
  }

  #connected(): void {
    if (this.#downSince !== undefined) this.#o.log?.(`informer ${this.#o.name}: connected again after ${this.#o.now() - this.#downSince} ms`);
    this.#downSince = undefined;
    this.#delayMs = 0;
  }

  #checkSilence(): void {
    if (this.#watching !== this.#attempt || this.#o.now() - this.#lastSign < this.#o.silenceMs) return;
    this.#restarts.watchdog++;
    this.#o.log?.(`informer ${this.#o.name}: watch silent for ${this.#o.now() - this.#lastSign} ms, restarting it`);
    this.#abandon();
    this.#watch();
  }

  /** Drops the current watch: its late events and ending are ignored from here on. */
  #abandon(): void {
    this.#attempt++;
    const abort = this.#abort;
    this.#abort = undefined;
    abort?.();
  }
}

/** Since when the longest-failing of some informers has been down; undefined when all are connected. */
export function downSince(informers: Iterable<Informer>): number | undefined {
  let since: number | undefined;
  for (const i of informers) {
    const d = i.health.downSince;
    if (d !== undefined && (since === undefined || d < since)) since = d;
  }
  return since;
}

/** The cache key: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name}` : name;
}
