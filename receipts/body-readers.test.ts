import test from 'ava';
import { decisionBody, lifecycleBody, reconcileBody, thresholdBody } from './bodies.ts';
import { ReceiptBodyError, readDecisionBody, readLifecycleBody, readReconcileBody, readThresholdBody } from './body-readers.ts';

const DIGEST = 'ab'.repeat(32);
const DIGEST_BYTES = new Uint8Array(32).fill(0xab);

test('each decision body reads back as built, by op', (t) => {
  const common = { tenant: 'acme', allowed: true, reason: 'Allowed', policyDigest: DIGEST } as const;
  t.deepEqual(readDecisionBody(decisionBody({ ...common, op: 'check', subject: 'sso', value: { tier: 2 } })), { op: 'check', tenant: 'acme', subject: 'sso', allowed: true, reason: 'Allowed', policyDigest: DIGEST_BYTES, value: { tier: 2 } });
  t.deepEqual(readDecisionBody(decisionBody({ ...common, op: 'rate', subject: 'requests', amount: 1, remaining: 9, retryAfterMs: 0 })), {
    op: 'rate', tenant: 'acme', subject: 'requests', allowed: true, reason: 'Allowed', policyDigest: DIGEST_BYTES, amount: 1, remaining: 9, retryAfterMs: 0,
  });
  const consume = { ...common, op: 'consume', subject: 'api-calls', amount: 5, used: 85, limit: 100, windowStart: 1780272000000, resetsAt: '2026-07-01T00:00:00Z', idempotencyKey: 'k1', threshold: 80 } as const;
  t.deepEqual(readDecisionBody(decisionBody(consume)), { ...consume, policyDigest: DIGEST_BYTES });
});

test('optional decision fields stay absent; a consume without windowStart or resetsAt reads them as null', (t) => {
  const body = decisionBody({ tenant: 'nobody', op: 'consume', subject: 'api-calls', amount: 1, allowed: false, reason: 'UnknownTenant', used: 0, limit: 0 });
  const read = readDecisionBody(body);
  t.deepEqual(read, { op: 'consume', tenant: 'nobody', subject: 'api-calls', allowed: false, reason: 'UnknownTenant', amount: 1, used: 0, limit: 0, windowStart: null, resetsAt: null });
  t.false('policyDigest' in (read as object));
  t.false('idempotencyKey' in (read as object));
});

test('threshold and reconcile bodies read back as built; unknown extra keys are ignored', (t) => {
  const threshold = { tenant: 'acme', metric: 'api-calls', threshold: 80, percent: 85, used: 85, limit: 100, windowStart: null };
  t.deepEqual(readThresholdBody({ ...thresholdBody(threshold), future: 'field' }), threshold);
  t.deepEqual(readReconcileBody(reconcileBody({ resource: 'Tenant/acme', generation: 3, specDigest: DIGEST, patch: { features: { sso: null } } })), {
    resource: 'Tenant/acme', generation: 3, specDigest: DIGEST_BYTES, patch: { features: { sso: null } },
  });
  t.deepEqual(readReconcileBody({ resource: 'Tenant/acme', generation: 0, specDigest: DIGEST_BYTES, patch: null }), { resource: 'Tenant/acme', generation: 0, specDigest: DIGEST_BYTES, patch: null });
});

const good = decisionBody({ tenant: 'acme', op: 'consume', subject: 'api-calls', amount: 5, allowed: true, reason: 'Allowed', used: 5, limit: 10, windowStart: 0, resetsAt: null });
for (const [desc, change, field, message] of [
  ['a missing tenant', { tenant: undefined }, 'tenant', 'decision body: tenant must be text, got nothing (the field is missing)'],
  ['an unknown op', { op: 'admit' }, 'op', 'decision body: op must be "check" or "consume" or "rate", got "admit"'],
  ['allowed as text', { allowed: 'true' }, 'allowed', 'decision body: allowed must be a boolean, got "true"'],
  ['a consume without used', { used: undefined }, 'used', 'decision body: used must be an integer, got nothing (the field is missing)'],
  ['a fractional amount', { amount: 0.5 }, 'amount', 'decision body: amount must be an integer, got 0.5'],
  ['windowStart as text', { windowStart: '2026-06-01T00:00:00Z' }, 'windowStart', 'decision body: windowStart must be an integer, got "2026-06-01T00:00:00Z"'],
  ['a 31-byte policyDigest', { policyDigest: new Uint8Array(31) }, 'policyDigest', 'decision body: policyDigest must be a 32-byte digest, got 31 bytes'],
  ['a negative threshold', { threshold: -1 }, 'threshold', 'decision body: threshold must be a non-negative integer, got -1'],
] as const) {
  test(`readDecisionBody names the field of ${desc}`, (t) => {
    const body: Record<string, unknown> = { ...good, ...change };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const read = readDecisionBody(body as typeof good);
    t.true(read instanceof ReceiptBodyError);
    t.is((read as ReceiptBodyError).field, field);
    t.is((read as ReceiptBodyError).message, message);
  });
}

test('readThresholdBody and readReconcileBody name the field that is wrong', (t) => {
  t.is((readThresholdBody({ tenant: 'acme', metric: 'm', threshold: 80, percent: 80, used: 8, limit: 10 }) as ReceiptBodyError).message, 'threshold body: windowStart must be an integer, got nothing (the field is missing)');
  t.is((readReconcileBody({ resource: 'Tenant/acme', generation: 1, specDigest: DIGEST_BYTES, patch: [] }) as ReceiptBodyError).message, 'reconcile body: patch must be a map, got an array');
});

test('a lifecycle start reads back with its optional predecessor; one without it (every older log) stays valid', (t) => {
  t.deepEqual(readLifecycleBody(lifecycleBody({ event: 'start', version: '0.1.0' })), { event: 'start', version: '0.1.0' });
  const predecessor = { origin: 'tai.dev/run/20261123T101500Z-3fa2b1c9', size: 1200, root: DIGEST };
  const body = lifecycleBody({ event: 'start', version: '0.2.0', predecessor });
  t.deepEqual(readLifecycleBody(body), { event: 'start', version: '0.2.0', predecessor: { ...predecessor, root: DIGEST_BYTES } });
  t.throws(() => lifecycleBody({ event: 'start', version: '0.2.0', predecessor: { ...predecessor, root: 'ab' } }), { message: /^predecessor\.root: must be a hex SHA-256 digest/ });
  const bad = readLifecycleBody({ ...body, predecessor: { origin: 'x', size: -1, root: DIGEST_BYTES } });
  t.true(bad instanceof ReceiptBodyError);
  t.regex((bad as ReceiptBodyError).message, /^lifecycle predecessor body: size must be a non-negative integer, got -1/);
});
