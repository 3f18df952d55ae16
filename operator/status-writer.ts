import mergePatch from 'json-merge-patch';
import type { TAI_PATHS } from './paths.ts';
import { statusPath } from './paths.ts';
import type { KubeApi, KubeObject } from '../kube/index.ts';

/**
 * Writes a TAI object's status subresource only when it differs from what the cache holds: an RFC 7396 merge
 * patch from the cached status to the new one, guarded by the cached resourceVersion, so a write computed from
 * a stale cache fails with 409 Conflict (and the queue retries once the cache has caught up) instead of
 * leaving stale fields behind.
 */
export class StatusWriter {
  readonly #api: KubeApi;
  #writes = 0;

  constructor(api: KubeApi) {
    this.#api = api;
  }

  /** Status writes made so far. */
  get writes(): number {
    return this.#writes;
  }

  /** Returns whether a write was needed. */
  async write(kind: keyof typeof TAI_PATHS, object: KubeObject, status: Record<string, unknown>): Promise<boolean> {
    const patch = statusPatch(object.status, status);
    if (patch === undefined) return false;
    await this.#api.request('PATCH', statusPath(kind, object.metadata.name), {
      body: { metadata: { resourceVersion: object.metadata.resourceVersion }, status: patch },
    });
    this.#writes++;
    return true;
  }
}

/** The merge patch from one status to another; undefined when they are equal. */
export function statusPatch(before: unknown, after: Record<string, unknown>): unknown {
  const base = typeof before === 'object' && before !== null ? structuredClone(before) : {};
  return mergePatch.generate(base, after);
}
