// Issue 15, defect 4 at the admission webhook: a review whose objects hold lone UTF-16 surrogates (in names,
// labels, keys or values of TAI policy) is answered — a 400 or a verdict that names the field — and whatever is
// recorded is encodable as a receipt. Never a 500.
import test from 'ava';
import { Hono } from 'hono';
import { encodeDeterministic, type ReceiptBody } from '../../receipts/index.ts';
import { admissionApi } from './admission-api.ts';
import { admissionOver, namespace, pod, requestFor } from './admission.test-helper.ts';

function server() {
  const { controller, deliver } = admissionOver();
  const recorded: ReceiptBody[] = [];
  // The real encoder stands in for the log: what it cannot encode, the log cannot append.
  const record = async (b: ReceiptBody) => (encodeDeterministic(b), recorded.push(b), { index: recorded.length - 1, leafHash: 'ab'.repeat(32) });
  const errors: unknown[] = [];
  const app = new Hono().route('/admission', admissionApi({ controller, record }));
  app.onError((e, c) => (errors.push(e), c.text(String(e), 500)));
  const send = (request: object) =>
    app.request('/admission/validate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }) });
  return { recorded, deliver, send, errors };
}

const tai = (kind: string, object: Record<string, unknown>) =>
  requestFor(kind === 'SKU' ? 'skus' : 'tenants', object, { kind: { group: 'tai.dev', version: 'v1alpha1', kind }, resource: { group: 'tai.dev', version: 'v1alpha1', resource: kind === 'SKU' ? 'skus' : 'tenants' } });
const sku = (spec: object, extra: object = {}) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name: 'gold', ...extra }, spec });

const CASES: Array<[string, () => object, RegExp]> = [
  ['a SKU feature value', () => tai('SKU', sku({ features: { support: 'gold\ud800' } })), /spec\.features\.support: .*lone UTF-16 surrogate/],
  ['a SKU feature key', () => tai('SKU', sku({ features: { 'a\udc00': true } })), /spec\.features\.a\\udc00: .*lone UTF-16 surrogate/],
  ['a SKU label value', () => tai('SKU', sku({}, { labels: { tier: 'x\ud800' } })), /metadata\.labels\.tier: .*lone UTF-16 surrogate/],
  ['a Tenant addOn sku', () => tai('Tenant', { apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'initech' }, spec: { sku: 'small', addOns: [{ sku: 'x\ud800' }] } }), /spec\.addOns\.0\.sku: .*lone UTF-16 surrogate/],
  ['the kind of a TAI object', () => tai('SKU', { ...sku({}), kind: 'SK\ud800' }), /kind/],
];

for (const [what, request, message] of CASES) {
  test(`a lone surrogate in ${what} is refused with the field named, and the verdict is recordable`, async (t) => {
    const s = server();
    const res = await s.send(request());
    const text = await res.text();
    t.deepEqual(s.errors, []);
    t.true(res.status === 200 || res.status === 400, `${res.status} ${text}`);
    const body = JSON.parse(text) as { response?: { allowed: boolean; status?: { message: string } }; detail?: string };
    const said = body.response?.status?.message ?? body.detail ?? '';
    t.is(body.response?.allowed ?? false, false);
    t.regex(said, message);
  });
}

test('a lone surrogate in the labels of a namespace or a pod never answers 500, and what is recorded is encodable', async (t) => {
  const s = server();
  s.deliver('namespaces', namespace('acme-1', { 'tai.dev/tenant': 'acme' }));
  for (const request of [
    requestFor('namespaces', namespace('acme-2', { 'tai.dev/tenant': 'acme\ud800' })),
    requestFor('namespaces', namespace('acme-3', { 'tai.dev/tenant': 'acme', team: '\udfff' })),
    requestFor('pods', { ...pod('acme-1', 'web'), metadata: { name: 'web', namespace: 'acme-1', labels: { app: 'w\ud800' } } }),
  ]) {
    const res = await s.send(request);
    t.true(res.status === 200 || res.status === 400, `${res.status} ${await res.text()}`);
  }
  t.deepEqual(s.errors, []);
});
