import test from 'ava';
import { KubeApiError, type KubeApi, type KubeObject, type RequestOptions } from '../kube/index.ts';
import { StatusWriter, statusPatch } from './status-writer.ts';

interface Call {
  method: string;
  path: string;
  body: unknown;
}

/** Records every request; `fail` makes the next one throw. */
function recordingApi(): KubeApi & { calls: Call[]; fail?: Error } {
  const api: KubeApi & { calls: Call[]; fail?: Error } = {
    calls: [],
    async request<T>(method: string, path: string, options?: RequestOptions): Promise<T> {
      api.calls.push({ method, path, body: options?.body });
      if (api.fail) throw api.fail;
      return {} as T;
    },
    async watch() {
      throw new Error('no watches in this test');
    },
  };
  return api;
}

const tenant = (status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'tai.dev/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme', generation: 3, resourceVersion: '812', uid: 'u-1' },
  spec: { sku: 'growth' },
  ...(status ? { status } : {}),
});

test('statusPatch from no status is the whole new status', (t) => {
  t.deepEqual(statusPatch(undefined, { observedGeneration: 3, namespaces: 2 }), { observedGeneration: 3, namespaces: 2 });
});

test('statusPatch of an equal status is undefined', (t) => {
  t.is(statusPatch({ observedGeneration: 3, usage: [{ metric: 'a', used: 1 }] }, { observedGeneration: 3, usage: [{ metric: 'a', used: 1 }] }), undefined);
});

test('statusPatch names only what changed, nulls removed fields and replaces arrays whole', (t) => {
  const before = { observedGeneration: 3, namespaces: 2, usagePercent: 40, usage: [{ metric: 'a', used: 4 }, { metric: 'b', used: 0 }] };
  const after = { observedGeneration: 3, namespaces: 2, usage: [{ metric: 'a', used: 5 }, { metric: 'b', used: 0 }] };
  t.deepEqual(statusPatch(before, after), { usagePercent: null, usage: [{ metric: 'a', used: 5 }, { metric: 'b', used: 0 }] });
});

test('statusPatch leaves the cached status untouched', (t) => {
  const before = { namespaces: 2, usagePercent: 40 };
  statusPatch(before, { namespaces: 3 });
  t.deepEqual(before, { namespaces: 2, usagePercent: 40 });
});

test('statusPatch treats a non-object cached status as empty', (t) => {
  t.deepEqual(statusPatch(null, { namespaces: 1 }), { namespaces: 1 });
  t.deepEqual(statusPatch('garbage', { namespaces: 1 }), { namespaces: 1 });
});

test('write PATCHes the status subresource with the diff, guarded by the cached resourceVersion', async (t) => {
  const api = recordingApi();
  const writer = new StatusWriter(api);
  t.true(await writer.write('Tenant', tenant({ observedGeneration: 2, namespaces: 1 }), { observedGeneration: 3, namespaces: 1 }));
  t.deepEqual(api.calls, [
    { method: 'PATCH', path: '/apis/tai.dev/v1alpha1/tenants/acme/status', body: { metadata: { resourceVersion: '812' }, status: { observedGeneration: 3 } } },
  ]);
  t.is(writer.writes, 1);
});

test('write goes to the path of the kind it is given', async (t) => {
  const api = recordingApi();
  await new StatusWriter(api).write('Quota', { metadata: { name: 'trial-builds', resourceVersion: '9' } }, { active: true });
  t.is(api.calls[0]?.path, '/apis/tai.dev/v1alpha1/quotas/trial-builds/status');
});

test('write makes no request when the status is already as wanted', async (t) => {
  const api = recordingApi();
  const writer = new StatusWriter(api);
  t.false(await writer.write('Tenant', tenant({ observedGeneration: 3, namespaces: 1 }), { observedGeneration: 3, namespaces: 1 }));
  t.deepEqual(api.calls, []);
  t.is(writer.writes, 0);
});

test('a rejected write (409 Conflict from a stale cache) propagates and is not counted', async (t) => {
  const api = recordingApi();
  api.fail = new KubeApiError(409, 'Conflict', 'the object has been modified');
  const writer = new StatusWriter(api);
  const error = await t.throwsAsync(writer.write('SKU', tenant(), { observedGeneration: 3 }), { instanceOf: KubeApiError });
  t.is(error?.status, 409);
  t.is(writer.writes, 0);
});
