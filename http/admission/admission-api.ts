import { Hono } from 'hono';
import { admissionBody, type ReceiptBody } from '../../receipts/index.ts';
import { LogUnavailableError } from '../../receipts/store/index.ts';
import { readJson } from '../decision-api.ts';
import { Refusal, refuse } from '../problem.ts';
import type { ReceiptRef } from '../../recording/recorded-governor.ts';
import type { AdmissionController, AdmissionOutcome } from './admission-controller.ts';
import { admissionResponse, parseAdmissionReview, type AdmissionRequest } from './review.ts';

export interface AdmissionApiOptions {
  controller: AdmissionController;
  /**
   * Throws LogUnavailableError while the receipt log cannot write. Called right before a review is decided, so a
   * review the log could not record is never decided and reserves nothing (docs/adr/0010).
   */
  checkWritable?: () => void;
  /**
   * Appends the review's receipt (synchronously, in the turn it is called: no other review is decided between a
   * verdict and its append); resolves once it is durable (per the log's durability).
   */
  record: (body: ReceiptBody) => Promise<ReceiptRef>;
  /** Hears every answered review (metrics). */
  observe?: (review: { request: AdmissionRequest; outcome: AdmissionOutcome; seconds: number }) => void;
}

/** What the API server does with a 503: what a platform team on the default `failurePolicy: Fail` sees. */
const FAILURE_POLICY = "the API server applies the webhook's failurePolicy (Fail, the default: the request is refused; retry it once TAI's /readyz is ready)";

/**
 * `POST /admission/validate`: AdmissionReview `admission.k8s.io/v1` in, the verdict out (HTTP 200 either way),
 * once its `admission` receipt is recorded. The receipt's index goes back in `auditAnnotations`, so the API
 * server's audit log points at it. A malformed review is a 400 problem. A review the log cannot record is a 503
 * `log-unavailable`, and the API server then applies the webhook's failurePolicy: while the log cannot write,
 * before anything is decided (nothing reserved, nothing recorded); if the receipt's write fails, after the
 * capacity the verdict reserved is released (the API server never got "allowed").
 */
export function admissionApi(o: AdmissionApiOptions): Hono {
  const app = new Hono();
  app.post('/validate', async (c) => {
    const started = performance.now();
    const body = await readJson(c);
    if (body instanceof Response) return body;
    const answer = await answerReview(o, body, started);
    return answer instanceof Refusal ? refuse(c, answer) : c.json(answer);
  });
  return app;
}

/**
 * The review of a parsed body (started: when the request came, by performance.now): the AdmissionReview answer,
 * or the refusal (400 malformed, 503 log-unavailable). Shared by the app and the lean routes (http/lean/).
 */
export async function answerReview(o: AdmissionApiOptions, body: unknown, started: number): Promise<object | Refusal> {
  const parsed = parseAdmissionReview(body);
  if ('error' in parsed) return new Refusal('invalid-request', parsed.error);
  const { request } = parsed;
  await o.controller.awaitReferences(request);
  const refusal = unwritable(o.checkWritable);
  if (refusal) return new Refusal('log-unavailable', `${refusal}: nothing was decided, reserved or recorded for this review; ${FAILURE_POLICY}`);
  // In-process the verdict comes in this turn, and its receipt is appended in it (no review decided between);
  // on shared reservations a request adding to a cap waits for the store first.
  const decided = o.controller.verdict(request);
  const outcome = decided instanceof Promise ? await decided : decided;
  let receipt: ReceiptRef;
  try {
    receipt = await o.record(admissionBody(receiptInput(request, outcome)));
  } catch (e) {
    o.controller.release(request);
    if (e instanceof LogUnavailableError) return new Refusal('log-unavailable', unrecorded(e, outcome, o.checkWritable));
    throw e;
  }
  o.observe?.({ request, outcome, seconds: (performance.now() - started) / 1000 });
  const answer = admissionResponse(request.uid, outcome) as { response: Record<string, unknown> };
  answer.response.auditAnnotations = { receipt: String(receipt.index), 'receipt-leaf-hash': receipt.leafHash };
  return answer;
}

/** The log's refusal while it cannot write, if it cannot. */
function unwritable(checkWritable: (() => void) | undefined): string | undefined {
  try {
    checkWritable?.();
    return undefined;
  } catch (e) {
    if (e instanceof LogUnavailableError) return e.message;
    throw e;
  }
}

/** Why a decided review got no answer: its receipt was refused, or its write failed (the receipt is then written later). */
function unrecorded(e: LogUnavailableError, outcome: AdmissionOutcome, checkWritable: (() => void) | undefined): string {
  const verdict = `${outcome.allowed ? 'allowed' : 'denied'} (${outcome.reason})`;
  const released = outcome.reserved ? ' and the capacity it reserved is released' : '';
  if (e.outcome === 'refused') return `${e.message}: nothing was recorded for this review, so its verdict, ${verdict}, was not given${released}; ${FAILURE_POLICY}`;
  const log = unwritable(checkWritable) ?? 'the receipt log failed writing it';
  return (
    `the receipt of this review could not be written (${log}): it stays in memory and is written when the log recovers, unless the server stops first, ` +
    `but its verdict, ${verdict}, was not given${released}; ${FAILURE_POLICY}`
  );
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
