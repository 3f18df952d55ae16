import { Hono } from 'hono';
import { admissionBody, type ReceiptBody } from '../../receipts/index.ts';
import { LogUnavailableError } from '../../receipts/store/index.ts';
import { readJson } from '../decision-api.ts';
import { problem } from '../problem.ts';
import type { ReceiptRef } from '../recorded-governor.ts';
import type { AdmissionController, AdmissionOutcome } from './admission-controller.ts';
import { admissionResponse, parseAdmissionReview, type AdmissionRequest } from './review.ts';

export interface AdmissionApiOptions {
  controller: AdmissionController;
  /** Appends the review's receipt; resolves once it is durable (per the log's durability). */
  record: (body: ReceiptBody) => Promise<ReceiptRef>;
  /** Hears every answered review (metrics). */
  observe?: (review: { request: AdmissionRequest; outcome: AdmissionOutcome; seconds: number }) => void;
}

/**
 * `POST /admission/validate`: AdmissionReview `admission.k8s.io/v1` in, the verdict out (HTTP 200 either way),
 * once its `admission` receipt is recorded. The receipt's index goes back in `auditAnnotations`, so the API
 * server's audit log points at it. A malformed review is a 400 problem; a log that cannot record is a 503,
 * and the API server then applies the webhook's failurePolicy.
 */
export function admissionApi(o: AdmissionApiOptions): Hono {
  const app = new Hono();
  app.post('/validate', async (c) => {
    const started = performance.now();
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const parsed = parseAdmissionReview(body);
    if ('error' in parsed) return problem(c, 'invalid-request', parsed.error);
    const { request } = parsed;
    const outcome = await o.controller.review(request);
    try {
      const receipt = await o.record(admissionBody(receiptInput(request, outcome)));
      o.observe?.({ request, outcome, seconds: (performance.now() - started) / 1000 });
      const answer = admissionResponse(request.uid, outcome) as { response: Record<string, unknown> };
      answer.response.auditAnnotations = { receipt: String(receipt.index), 'receipt-leaf-hash': receipt.leafHash };
      return c.json(answer);
    } catch (e) {
      if (e instanceof LogUnavailableError) return problem(c, 'log-unavailable', `${e.message}; the review was not answered`);
      throw e;
    }
  });
  return app;
}

function receiptInput(r: AdmissionRequest, o: AdmissionOutcome): Parameters<typeof admissionBody>[0] {
  const meta = (r.object ?? r.oldObject)?.metadata as { name?: unknown } | undefined;
  return {
    uid: r.uid,
    operation: r.operation,
    resource: `${r.resource.group}/${r.resource.version}/${r.resource.resource}`,
    namespace: r.namespace || undefined,
    name: typeof meta?.name === 'string' && meta.name ? meta.name : r.name || undefined,
    user: r.userInfo?.username,
    tenant: o.tenant,
    allowed: o.allowed,
    reason: o.reason,
    message: o.message,
    cap: o.cap,
    dryRun: r.dryRun === true,
    reserved: o.reserved,
  };
}
