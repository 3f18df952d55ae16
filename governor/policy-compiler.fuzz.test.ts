// Fuzzing of the incremental policy compiler (design §2 resolution, §3 incremental compiling, §11).
import test from 'ava';
import fc from 'fast-check';
import { formatPolicyError, kindInfo, MAX_LIMIT, parseApiObject, parseManifests, resourceKey, type QuotaGrantSpec, type SkuSpec, type TaiResource, type TenantSpec } from '../crds/index.ts';
import { effectiveDocument } from './effective-document.ts';
import { PolicyCompiler, type PolicyChange } from './policy-compiler.ts';
import { quotaOf, skuOf, tenantOf } from './policy-fixtures.test-helper.ts';
import type { PolicySnapshot } from './policy-snapshot.ts';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const RUNS = 500;

const SKUS = ['s0', 's1', 's2', 's3', 's4'];
const MISSING = 'gone';
const TENANTS = ['t0', 't1', 't2', 't3', 't4', 't5'];
const METRICS = ['m0', 'm1', 'm2'];
const QUOTAS = ['q0', 'q1', 'q2', 'q3'];

const BIG = [0, 1, 7, 1000, 2 ** 31, MAX_LIMIT - 1, MAX_LIMIT];
const limit = fc.oneof(fc.constantFrom(...BIG), fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: MAX_LIMIT }));
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const quotaSpec = fc.record(
  {
    limit,
    kind: fc.constantFrom('counter', 'gauge'),
    window: fc.constantFrom('none', 'minute', 'day', 'month', 'year'),
    reset: fc.constantFrom('calendar', 'anchor'),
    enforcement: fc.constantFrom('hard', 'soft', 'observe'),
    alertAt: fc.array(fc.integer({ min: 1, max: 100 }), { maxLength: 4 }),
  },
  { requiredKeys: ['limit'] },
);
const rateSpec = fc.record({ perSecond: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(MAX_LIMIT)), burst: opt(fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(MAX_LIMIT))) });
/** Lone UTF-16 surrogates: a JSON or YAML `"\\ud800"` escape gives one; no receipt can record it (issue 15). */
const LONE_SURROGATES = ['\ud800', 'gold\udfff', '\udc00\ud800', 'x\ud83d'];
const featureValue = fc.oneof(
  { weight: 12, arbitrary: fc.oneof(fc.boolean(), fc.integer({ min: -5, max: 5 }), fc.constantFrom(0.5, MAX_LIMIT, MAX_LIMIT - 1, 2 ** 53, -(2 ** 53), -MAX_LIMIT, 1e300), fc.string({ maxLength: 5 })) },
  { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES) },
);
const quantity = fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constantFrom('4', '500m', '8Gi', '1Ti', MAX_LIMIT));
const sub = <T>(keys: string[], value: fc.Arbitrary<T>) => opt(fc.dictionary(fc.constantFrom(...keys), value, { maxKeys: keys.length }));

const skuSpec: fc.Arbitrary<SkuSpec> = fc.record({
  // Random extends edges: cycles (including self), dangling parents, or none.
  extends: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: fc.constantFrom(...SKUS) }, { weight: 1, arbitrary: fc.constant(MISSING) }),
  features: sub(['f0', 'f1', 'f2'], featureValue),
  quotas: sub(METRICS, quotaSpec),
  rates: sub(['r0', 'r1'], rateSpec),
  resources: sub(['namespaces', 'requests.cpu', 'requests.memory'], quantity),
}) as fc.Arbitrary<SkuSpec>;

/** Merge-patch garbage: nulls delete, objects merge, anything else replaces (and may not validate). */
const patchValue = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 3, arbitrary: featureValue },
  { weight: 3, arbitrary: quotaSpec.map((q) => ({ ...q, kind: q.kind })) },
  { weight: 2, arbitrary: fc.record({ limit: fc.oneof(limit, fc.constantFrom(-1, 1.5, 'x', null, MAX_LIMIT + 2)) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
const overrides = fc.record(
  {
    features: fc.dictionary(fc.constantFrom('f0', 'f1', 'f9', 'constructor'), patchValue, { maxKeys: 3 }),
    quotas: fc.dictionary(fc.constantFrom(...METRICS, 'm9'), patchValue, { maxKeys: 3 }),
    rates: fc.dictionary(fc.constantFrom('r0', 'r1'), fc.oneof(fc.constant(null), rateSpec, fc.jsonValue({ maxDepth: 1 })), { maxKeys: 2 }),
    resources: fc.dictionary(fc.constantFrom('namespaces', 'requests.cpu', 'bogus'), fc.oneof(fc.constant(null), quantity, fc.string({ maxLength: 3 })), { maxKeys: 2 }),
  },
  { requiredKeys: [] },
);
const LABELS = fc.dictionary(fc.constantFrom('tier', 'region'), fc.oneof({ weight: 12, arbitrary: fc.constantFrom('a', 'b') }, { weight: 1, arbitrary: fc.constantFrom(...LONE_SURROGATES) }), { maxKeys: 2 });

const skuName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...SKUS) }, { weight: 1, arbitrary: fc.constant(MISSING) });
const tenantSpec: fc.Arbitrary<TenantSpec> = fc.record({
  sku: skuName,
  addOns: opt(fc.array(fc.record({ sku: skuName, quantity: opt(fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant(MAX_LIMIT))) }), { maxLength: 2 })),
  suspended: opt(fc.boolean()),
  billingAnchor: opt(fc.constantFrom('2026-01-31T00:00:00Z', '2024-02-29T12:00:00+02:00')),
  overrides: fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: overrides }),
}) as fc.Arbitrary<TenantSpec>;

const TIMES = ['2026-11-01T00:00:00Z', '2026-11-28T12:00:00Z', '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'];
const quotaGrant: fc.Arbitrary<QuotaGrantSpec> = fc
  .record({
    who: fc.oneof(fc.constantFrom(...TENANTS, 'nobody').map((tenant) => ({ tenant })), LABELS.map((matchLabels) => ({ tenantSelector: { matchLabels } }))),
    metric: fc.constantFrom(...METRICS, 'm9'),
    mode: opt(fc.constantFrom('add', 'replace')),
    limit,
    box: fc.subarray([0, 1, 2, 3], { maxLength: 2 }),
  })
  .map(({ who, metric, mode, limit: l, box }) => {
    const [from, until] = box.length === 2 ? box : box.length === 1 ? (box[0]! % 2 ? [undefined, box[0]] : [box[0], undefined]) : [undefined, undefined];
    return {
      ...who,
      metric,
      ...(mode ? { mode } : {}),
      limit: l,
      ...(from !== undefined ? { validFrom: TIMES[from]! } : {}),
      ...(until !== undefined ? { validUntil: TIMES[until]! } : {}),
    } as QuotaGrantSpec;
  });

const skuResource = fc.tuple(fc.constantFrom(...SKUS), skuSpec).map(([n, s]) => skuOf(n, s));
const resource: fc.Arbitrary<TaiResource> = fc.oneof(
  skuResource,
  fc.tuple(fc.constantFrom(...TENANTS), tenantSpec, LABELS).map(([n, s, l]) => tenantOf(n, s, l)),
  fc.tuple(fc.constantFrom(...QUOTAS), quotaGrant).map(([n, s]) => quotaOf(n, s)),
);

type Op = { upsert: TaiResource } | { remove: string };
const removal = fc.constantFrom(...SKUS.map((n) => `SKU/${n}`), ...TENANTS.map((n) => `Tenant/${n}`), ...QUOTAS.map((n) => `Quota/${n}`), 'Quota/none');
const op: fc.Arbitrary<Op> = fc.oneof({ weight: 4, arbitrary: resource.map((upsert) => ({ upsert })) }, { weight: 1, arbitrary: removal.map((remove) => ({ remove })) });
const batches = fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 8 });

const toChange = (ops: readonly Op[]): PolicyChange => ({
  upsert: ops.flatMap((o) => ('upsert' in o ? [o.upsert] : [])),
  remove: ops.flatMap((o) => ('remove' in o ? [o.remove] : [])),
});

/** What the compiler holds after a batch: removals first, then upserts (as PolicyCompiler.apply does). */
function applyModel(model: Map<string, TaiResource>, change: PolicyChange): void {
  for (const key of change.remove ?? []) model.delete(key);
  for (const r of change.upsert ?? []) model.set(resourceKey(r), r);
}

/** SKUs that lie on an extends cycle of the final set. */
function cycleMembers(skus: ReadonlyMap<string, SkuSpec>): Set<string> {
  const out = new Set<string>();
  for (const start of skus.keys()) {
    const seen = new Set<string>();
    for (let at: string | undefined = start; at !== undefined && skus.has(at) && !seen.has(at); at = skus.get(at)!.extends) seen.add(at);
    let at: string | undefined = start;
    for (let i = 0; i <= skus.size && at !== undefined; i++) {
      at = skus.get(at)?.extends;
      if (at === start) out.add(start);
    }
  }
  return out;
}

/** An add-on contributed to the value: its trace has a step from `SKU/<name>×<quantity>`. */

function assertSafe(what: string, value: number): void {
  if (Number.isSafeInteger(value) && value >= 0) return;
  throw new Error(`${what} is ${value}: not an integer in [0, 2^53-1]`);
}

function assertSnapshotInvariants(snap: PolicySnapshot, model: ReadonlyMap<string, TaiResource>): void {
  for (const [name, t] of snap.tenants) {
    for (const [metric, q] of Object.entries(t.quotas)) assertSafe(`tenant ${name}: quota ${metric} limit`, q.limit);
    for (const [rate, r] of Object.entries(t.rates)) {
      assertSafe(`tenant ${name}: rate ${rate} perSecond`, r.perSecond);
      assertSafe(`tenant ${name}: rate ${rate} burst`, r.burst);
    }
  }
  for (const key of model.keys()) if (!snap.statuses.has(key)) throw new Error(`${key} has no status`);
  for (const key of snap.statuses.keys()) if (!model.has(key)) throw new Error(`${key} has a status but is not in the policy`);
  const skus = new Map([...model.values()].filter((r) => r.kind === 'SKU').map((r) => [r.metadata.name, r.spec as SkuSpec]));
  for (const s of cycleMembers(skus)) {
    const st = snap.statuses.get(`SKU/${s}`);
    if (st?.reason !== 'InheritanceCycle' || st.ready) throw new Error(`SKU/${s} is on a cycle but reports ${JSON.stringify(st)}`);
  }
}

test('generated resources are valid for their kind (the generators are honest)', (t) => {
  for (const r of fc.sample(resource, 300)) t.true(kindInfo(r.kind)!.schema.safeParse(r).success, JSON.stringify(r));
});

const seen = new Map<string, number>();
/** Counts kind/reason pairs, so the log shows the generators reach every outcome. */
function tally(snap: PolicySnapshot): void {
  for (const [key, st] of snap.statuses) {
    const k = `${key.split('/')[0]}:${st.reason}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
}

test('property: one full compile never throws and keeps its invariants', (t) => {
  fc.assert(
    fc.property(fc.array(skuResource, { minLength: 2, maxLength: 8 }), fc.array(resource, { maxLength: 20 }), (skus, rest) => {
      const resources = [...skus, ...rest];
      const model = new Map<string, TaiResource>();
      applyModel(model, { upsert: resources });
      const snap = new PolicyCompiler().apply({ upsert: resources }, NOW);
      assertSnapshotInvariants(snap, model);
      tally(snap);
    }),
    { numRuns: RUNS * 2 },
  );
  t.log(`reasons seen: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`);
  t.pass();
});

/** Ready and reason per resource of the given kinds; digest per tenant whose own status is Ready. */
function comparable(snap: PolicySnapshot, kinds: readonly string[]): { statuses: Record<string, string>; digests: Record<string, string> } {
  const statuses: Record<string, string> = {};
  const digests: Record<string, string> = {};
  for (const [key, s] of [...snap.statuses].sort(([a], [b]) => a.localeCompare(b))) {
    if (kinds.includes(key.split('/')[0]!)) statuses[key] = `${s.ready}/${s.reason}`;
  }
  for (const [name, tenant] of [...snap.tenants].sort(([a], [b]) => a.localeCompare(b))) {
    if (snap.statuses.get(`Tenant/${name}`)?.ready) digests[name] = tenant.digest;
  }
  return { statuses, digests };
}

function assertSame(what: string, a: object, b: object): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what}\nincremental: ${JSON.stringify(a)}\nfull:        ${JSON.stringify(b)}`);
}

test('property: incremental batches (upserts and removals) equal one full compile of the final set', (t) => {
  fc.assert(
    fc.property(batches, (steps) => {
      const model = new Map<string, TaiResource>();
      const incremental = new PolicyCompiler();
      let snap = incremental.snapshot;
      for (const ops of steps) {
        const change = toChange(ops);
        applyModel(model, change);
        snap = incremental.apply(change, NOW);
        assertSnapshotInvariants(snap, model);
      }
      const full = new PolicyCompiler().apply({ upsert: [...model.values()] }, NOW);
      assertSame('incremental ≠ full', comparable(snap, ['Tenant', 'SKU', 'Quota']), comparable(full, ['Tenant', 'SKU', 'Quota']));
      // A broken tenant has nothing compiled in a fresh compiler (incrementally it may keep its last good state).
      for (const [name] of full.tenants) if (!full.statuses.get(`Tenant/${name}`)?.ready) throw new Error(`broken Tenant/${name} compiled`);
    }),
    { numRuns: RUNS * 2 },
  );
  t.pass();
});

/** Every text inside a value (keys included) is well-formed Unicode, so a receipt can record it. */
function wellFormed(value: unknown): boolean {
  if (typeof value === 'string') return value.isWellFormed();
  if (typeof value !== 'object' || value === null) return true;
  return Object.entries(value).every(([k, v]) => k.isWellFormed() && wellFormed(v));
}

/**
 * Issue 15: policy enters through parseManifests (tai validate, the folder loader) and parseApiObject (the cluster
 * feed, the admission webhook). A resource holding a lone surrogate anywhere is refused there, with an error that
 * names its field and is itself recordable; so a compiler fed only what entered holds no text a reconcile receipt
 * or a check's `value` could not record, and the refused resources change nothing.
 */
test('property: lone surrogates in policy are refused where policy enters, and what compiles is recordable', (t) => {
  let refused = 0;
  fc.assert(
    fc.property(fc.array(resource, { minLength: 1, maxLength: 12 }), (resources) => {
      const entered: TaiResource[] = [];
      for (const r of resources) {
        const fromFile = parseManifests(JSON.stringify(r), 'policy.yaml');
        const fromApi = parseApiObject(JSON.parse(JSON.stringify(r)));
        const errors = [...fromFile.errors, ...('errors' in fromApi ? fromApi.errors : [])].map(formatPolicyError);
        if (!errors.every((e) => e.isWellFormed())) throw new Error(`an error holds a lone surrogate: ${JSON.stringify(errors)}`);
        if (wellFormed(r)) {
          // Refused, if at all, for another reason (a YAML integer past 2^53-1 is one), never for its text.
          if (errors.some((e) => e.includes('lone UTF-16 surrogate'))) throw new Error(`refused well-formed text: ${errors.join('; ')}`);
          entered.push(...fromFile.resources.map((s) => s.resource));
          continue;
        }
        refused++;
        if (fromFile.resources.length > 0 || !('errors' in fromApi)) throw new Error(`accepted a lone surrogate: ${JSON.stringify(r)}`);
        if (!errors.some((e) => e.includes('lone UTF-16 surrogate'))) throw new Error(`imprecise refusal: ${errors.join('; ')}`);
      }
      // The refused resources never reach the compiler: what it holds comes from what entered only.
      const snapshot = new PolicyCompiler().apply({ upsert: entered }, NOW);
      for (const tenant of snapshot.tenants.values()) {
        if (!wellFormed(effectiveDocument(tenant)) || !wellFormed(tenant.features)) throw new Error(`Tenant/${tenant.name} holds unrecordable text`);
      }
    }),
    { numRuns: RUNS },
  );
  t.log(`resources refused for a lone surrogate: ${refused}`);
  t.true(refused > 0);
});

// Regression: a Tenant that appears (or whose compile fails, or whose labels change) re-statuses the Quotas
// that name or select it.
test('a Quota naming a tenant that is created later stops reporting TenantNotFound', (t) => {
  const c = new PolicyCompiler();
  c.apply({ upsert: [quotaOf('q', { tenant: 't', metric: 'm', limit: 1 }), quotaOf('all', { tenantSelector: {}, metric: 'm', limit: 1 })] }, NOW);
  t.like(c.snapshot.statuses.get('Quota/q'), { ready: false, reason: 'TenantNotFound' });
  const snap = c.apply({ upsert: [tenantOf('t', { sku: 'missing' })] }, NOW);
  t.like(snap.statuses.get('Quota/q'), { ready: true, tenants: 1 });
  t.like(snap.statuses.get('Quota/all'), { tenants: 1 });
});

test('a cycle and its hangers-on: members report InheritanceCycle, a child of the cycle is not Ready, others compile', (t) => {
  const snap = new PolicyCompiler().apply(
    {
      upsert: [
        skuOf('a', { extends: 'b' }),
        skuOf('b', { extends: 'a' }),
        skuOf('self', { extends: 'self' }),
        skuOf('child', { extends: 'a' }),
        skuOf('ok', {}),
        tenantOf('t', { sku: 'child' }),
      ],
    },
    NOW,
  );
  for (const s of ['a', 'b', 'self']) t.like(snap.statuses.get(`SKU/${s}`), { ready: false, reason: 'InheritanceCycle', path: 'spec.extends' });
  t.like(snap.statuses.get('SKU/child'), { ready: false });
  t.like(snap.statuses.get('SKU/ok'), { ready: true });
  t.like(snap.statuses.get('Tenant/t'), { ready: false, path: 'spec.sku' });
});

// Regression: add-ons clamp sums at 2^53-1, as grants do.
test('add-ons never take a limit or a rate past 2^53-1', (t) => {
  const snap = new PolicyCompiler().apply(
    {
      upsert: [
        skuOf('plan', { quotas: { calls: { limit: MAX_LIMIT } }, rates: { requests: { perSecond: 1 } } }),
        skuOf('extra', { quotas: { calls: { limit: MAX_LIMIT } }, rates: { requests: { perSecond: MAX_LIMIT } } }),
        tenantOf('t', { sku: 'plan', addOns: [{ sku: 'extra', quantity: 2 }] }),
      ],
    },
    NOW,
  );
  const tenant = snap.tenants.get('t');
  t.truthy(tenant);
  t.true(Number.isSafeInteger(tenant?.quotas.calls?.limit), `limit ${tenant?.quotas.calls?.limit}`);
  t.true(Number.isSafeInteger(tenant?.rates.requests?.perSecond), `perSecond ${tenant?.rates.requests?.perSecond}`);
});

/** Everything a snapshot holds, in iteration order. */
const whole = (snap: PolicySnapshot): unknown => ({ ...snap, tenants: [...snap.tenants], statuses: [...snap.statuses], changed: [...snap.changed] });

test('property: a change run step by step gives exactly the snapshot of the one-shot apply, and none before the last step', (t) => {
  fc.assert(
    fc.property(batches, fc.integer({ min: 1, max: 7 }), (steps, every) => {
      const oneShot = new PolicyCompiler();
      const stepped = new PolicyCompiler();
      for (const [i, ops] of steps.entries()) {
        const change = toChange(ops);
        // Each batch a little later, so that time-boxed grants start and end between them.
        const now = NOW + i * 3 * 86_400_000;
        const expected = oneShot.apply(change, now);
        const before = stepped.snapshot;
        const run = stepped.changing(change, now);
        let taken = 0;
        for (let r = run.next(); !r.done; r = run.next()) {
          if (++taken % every === 0 && (stepped.snapshot !== before || stepped.refresh(now) !== before)) throw new Error(`step ${taken}: a snapshot before the last step`);
        }
        assertSame('stepped ≠ one-shot', whole(stepped.snapshot) as object, whole(expected) as object);
      }
    }),
    { numRuns: RUNS },
  );
  t.pass();
});
