import { HttpMethod, KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
import { fetch } from 'undici';

/** A Kubernetes object as the API returns it: only the fields every kind shares are typed. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    creationTimestamp?: string;
  };
  [field: string]: unknown;
}

export interface KubeList<T extends KubeObject = KubeObject> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** One watch event; BOOKMARK carries only a resourceVersion, ERROR a Status. */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; reason?: string; message?: string };
}

/** A non-2xx answer from the API server, with its Status reason (NotFound, Conflict, Expired, …). */
export class KubeApiError extends Error {
  readonly status: number;
  readonly reason: string;

  constructor(status: number, reason: string, message: string) {
    super(message);
    this.name = 'KubeApiError';
    this.status = status;
    this.reason = reason;
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** For PATCH: application/merge-patch+json (default) or application/json-patch+json. */
  contentType?: string;
  /** Abort the request after this many ms (default 15 000). */
  timeoutMs?: number;
}

/** The few calls the operator makes, so tests can hand it a client aimed at any cluster. */
export interface KubeApi {
  request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options?: RequestOptions): Promise<T>;
  /**
   * Starts a watch; `onEvent` hears each event, `done` is called once when it ends for any reason.
   * Resolves with a handle that stops it.
   */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: (e: WatchEvent) => void, done: (error: unknown) => void): Promise<{ abort(): void }>;
}

/**
 * The Kubernetes API through @kubernetes/client-node: its KubeConfig (kubeconfig files, in-cluster service
 * account with token rotation, exec plugins) authenticates every request, its Watch streams events. Requests
 * are plain JSON so that status subresources, merge patches and MicroTime fields pass through untouched.
 */
export class KubeClient implements KubeApi {
  readonly config: KubeConfig;
  readonly #watch: Watch;
  readonly #server: string;

  constructor(config: KubeConfig) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster: set current-context');
    this.config = config;
    this.#server = cluster.server.replace(/\/$/, '');
    this.#watch = new Watch(config);
  }

  /** Where the client points. */
  get server(): string {
    return this.#server;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const url = urlOf(this.#server + path, options.query);
    const ctx = new RequestContext(url.toString(), HttpMethod[method]);
    await this.config.applySecurityAuthentication(ctx);
    const headers = { ...(ctx.getHeaders() as unknown as Record<string, string>), accept: 'application/json', ...contentType(method, options) };
    const response = await fetch(url, {
      method,
      headers,
      dispatcher: ctx.getDispatcher(),
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
    const json = parseBody(await response.text());
    if (!response.ok) throw apiError(response.status, json, `${method} ${path}`);
    return json as T;
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (e: WatchEvent) => void,
    done: (error: unknown) => void,
  ): Promise<{ abort(): void }> {
    const controller = await this.#watch.watch(path, query, (type, object) => onEvent({ type, object } as WatchEvent), done);
    return { abort: () => controller.abort() };
  }
}

function contentType(method: string, options: RequestOptions): Record<string, string> {
  if (options.body === undefined) return {};
  return { 'content-type': options.contentType ?? (method === 'PATCH' ? 'application/merge-patch+json' : 'application/json') };
}

function urlOf(base: string, query: RequestOptions['query']): URL {
  const url = new URL(base);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
  return url;
}

/** JSON, or the text itself as a Status message when a proxy or a dying server answered something else. */
function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { message: text.slice(0, 200) };
  }
}

function apiError(status: number, body: unknown, what: string): KubeApiError {
  const s = (body ?? {}) as { reason?: string; message?: string };
  return new KubeApiError(status, s.reason ?? `HTTP${status}`, `${what}: ${status} ${s.message ?? ''}`.trim());
}

/**
 * The KubeConfig for `--kubeconfig PATH`, or the in-cluster service account when no path is given
 * (KUBERNETES_SERVICE_HOST set, token and CA mounted).
 */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromCluster();
  return kc;
}

/** Whether an error is the API server saying a resourceVersion is too old (410 Gone / Expired). */
export function isGone(error: unknown): boolean {
  return (error instanceof KubeApiError && error.status === 410) || (error as { statusCode?: number } | null)?.statusCode === 410;
}
