// The admission webhook during a receipt log outage (docs/adr/0010): the real controller and a real ReceiptLog in a
// temp dir whose disk is full (ENOSPC at every write until healed). A review the log cannot record must leave no
// capacity reserved, and one arriving while the log cannot write must not be decided at all.
import test from 'ava';
import { Hono } from 'hono';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultyFs } from '../../receipts/store/faulty-fs.test-helper.ts';
import { ReceiptLog } from '../../receipts/store/index.ts';
import { admissionApi } from './admission-api.ts';
import { admissionLog } from './admission-log.ts';
import { admissionOver, namespace, pod, requestFor } from './admission.test-helper.ts';

/** The webhook over a log on a full disk, with tenant acme (count/pods cap 10) holding 9 Pods in acme-1. */
async function outage(t: { teardown(f: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'tai-admission-outage-'));
  const fs = new FaultyFs({ fault: 'ENOSPC', at: 1, until: 'healed' });
  const log = await ReceiptLog.open({ dir, durability: 'sync', clock: { now: () => 1_700_000_000_000 }, fs, retry: { firstMs: 1, maxMs: 5 } });
  t.teardown(async () => {
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
  const { controller, deliver, reservations } = admissionOver();
  deliver('namespaces', namespace('acme-1', { 'tai.dev/tenant': 'acme' }));
  for (let i = 1; i <= 9; i++) deliver('pods', pod('acme-1', `p${i}`));
  const app = new Hono().route('/admission', admissionApi({ controller, ...admissionLog(log) }));
  const send = async (request: object) => {
    const res = await app.request('/admission/validate', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }),
    });
    return { status: res.status, body: (await res.json()) as { detail?: string; response?: { allowed: boolean; status?: { reason: string } } } };
  };
  const heal = async () => {
    fs.heal();
    const keepAlive = setInterval(() => undefined, 1000); // the log's retry timers do not keep the process alive
    await log.whenWritable().finally(() => clearInterval(keepAlive));
  };
  return { log, send, heal, reservations };
}

test('a Pod review whose receipt cannot be written is a 503 naming the log, and releases what it reserved', async (t) => {
  const { log, send, heal, reservations } = await outage(t);
  const failed = await send(requestFor('pods', pod('acme-1', 'p10')));
  t.is(failed.status, 503);
  t.regex(failed.body.detail ?? '', /receipt of this review could not be written \(the receipt log cannot write \(ENOSPC.*its verdict, allowed \(Allowed\), was not given and the capacity it reserved is released/);
  t.is(reservations.size, 0, 'the API server was not told "allowed", so the Pod is not created: nothing stays reserved');
  await heal();
  // The tenth Pod fits only if the failed review holds nothing.
  const next = await send(requestFor('pods', pod('acme-1', 'p10')));
  t.is(next.status, 200);
  t.like(next.body.response, { allowed: true });
  t.is(log.durableSize, 2, 'the failed review\'s receipt was written from memory when the log recovered, then this one');
});

test('while the log cannot write, a review is refused before it is decided: nothing reserved, nothing appended', async (t) => {
  const { log, send, heal, reservations } = await outage(t);
  // A review that reserves nothing starts the outage (its write fails).
  t.is((await send(requestFor('configmaps', { metadata: { name: 'c', namespace: 'team-x' } }))).status, 503);
  t.false(log.health.writable);
  const size = log.size;
  const refused = await send(requestFor('pods', pod('acme-1', 'p10')));
  t.is(refused.status, 503);
  t.regex(refused.body.detail ?? '', /the receipt log cannot write \(ENOSPC.*\).*nothing was decided/);
  t.is(reservations.size, 0);
  t.is(log.size, size, 'nothing was appended for the refused review');
  await heal();
  const next = await send(requestFor('pods', pod('acme-1', 'p10')));
  t.like(next.body.response, { allowed: true });
});
