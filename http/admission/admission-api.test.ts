import test from 'ava';
import { Hono } from 'hono';
import type { ReceiptBody } from '../../receipts/index.ts';
import { admissionApi } from './admission-api.ts';
import { admissionOver, namespace, pod, requestFor } from './admission.test-helper.ts';

function server() {
  const { controller, deliver } = admissionOver();
  const recorded: ReceiptBody[] = [];
  const app = new Hono().route('/admission', admissionApi({ controller, record: async (b) => (recorded.push(b), { index: recorded.length - 1, leafHash: 'ab'.repeat(32) }) }));
  const send = (body: unknown, type = 'application/json') =>
    app.request('/admission/validate', { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { app, recorded, deliver, send };
}

const review = (request: object, apiVersion = 'admission.k8s.io/v1') => ({ apiVersion, kind: 'AdmissionReview', request });

test('an AdmissionReview is answered with its uid, the verdict, and the receipt in auditAnnotations', async (t) => {
  const { send, recorded, deliver } = server();
  deliver('namespaces', namespace('umb', { 'tai.dev/tenant': 'umbrella' }));
  const req = requestFor('pods', pod('umb', 'web'), { userInfo: { username: 'alice' } });
  const res = await send(review(req));
  t.is(res.status, 200);
  const body = (await res.json()) as { apiVersion: string; response: Record<string, unknown> };
  t.is(body.apiVersion, 'admission.k8s.io/v1');
  t.like(body.response, { uid: req.uid, allowed: false, status: { code: 403, reason: 'TenantSuspended' }, auditAnnotations: { receipt: '0' } });
  t.deepEqual(recorded[0], {
    uid: req.uid, operation: 'CREATE', resource: '/v1/pods', namespace: 'umb', name: 'web', user: 'alice', tenant: 'umbrella',
    allowed: false, reason: 'TenantSuspended', message: (body.response.status as { message: string }).message, dryRun: false, reserved: false,
  });
});

test('malformed reviews are 4xx problems that name what is wrong, and nothing is recorded', async (t) => {
  const { send, recorded } = server();
  const cases: Array<[unknown, string | undefined, number, RegExp]> = [
    ['{"apiVersion":', undefined, 400, /not valid JSON/],
    ['<xml/>', 'text/xml', 415, /content-type must be application\/json/],
    [[], undefined, 400, /must be an AdmissionReview object/],
    [review(requestFor('pods', null), 'admission.k8s.io/v1beta1'), undefined, 400, /apiVersion must be admission.k8s.io\/v1 .* got "admission.k8s.io\/v1beta1"/],
    [review({ ...requestFor('pods', null), uid: '' }), undefined, 400, /request\.uid/],
    [review({ ...requestFor('pods', null), operation: 'PATCH' }), undefined, 400, /request\.operation/],
    [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, undefined, 400, /request/],
  ];
  for (const [body, type, status, detail] of cases) {
    const res = await send(body, type);
    t.is(res.status, status, JSON.stringify(body));
    t.is(res.headers.get('content-type'), 'application/problem+json');
    t.regex(((await res.json()) as { detail: string }).detail, detail);
  }
  t.is(recorded.length, 0);
});
