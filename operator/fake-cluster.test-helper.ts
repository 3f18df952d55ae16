import mergePatch from 'json-merge-patch';
import type { Informer } from './informer.ts';
import type { KubeApi, KubeObject, RequestOptions } from '../kube/index.ts';

/**
 * An API server and informer cache in one, for reconciler unit tests: requests are recorded, and a status PATCH
 * replaces the cached object (as the watch event of a real write would).
 */
export function fakeCluster(objects: KubeObject[]): {
  api: KubeApi;
  calls: Array<{ method: string; path: string; body: unknown }>;
  cache: Map<string, KubeObject>;
  informer: Informer;
} {
  const cache = new Map(objects.map((o) => [o.metadata.name, structuredClone(o)]));
  const calls: Array<{ method: string; path: string; body: unknown }> = [];
  const api: KubeApi = {
    async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
      calls.push({ method, path, body: options?.body });
      const object = method === 'PATCH' ? cache.get(/\/([^/]+)\/status$/.exec(path)?.[1] ?? '') : undefined;
      const patch = (options?.body as { status?: unknown } | undefined)?.status;
      if (object) cache.set(object.metadata.name, { ...object, status: mergePatch.apply(structuredClone(object.status ?? {}), patch) });
      return {} as T;
    },
    async watch() {
      throw new Error('no watches here');
    },
  };
  return { api, calls, cache, informer: { get: (n: string) => cache.get(n) } as unknown as Informer };
}
