// Fuzzing of the admission webhook (design §4, §11): POST /admission/validate answers any body with 200 or a precise
// 4xx problem, never a 500; every well-formed AdmissionReview gets a verdict with a documented reason and an encodable
// receipt; and however Pod creates, dry runs, watch deliveries and expiries interleave, no cap is passed.
import { isDeepStrictEqual } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { parseApiObject } from '../../crds/index.ts';
import { CompiledPolicy, Governor } from '../../governor/index.ts';
import { decodeReceipt, ReceiptChain, toHex, type ReceiptBody } from '../../receipts/index.ts';
import { ADMISSION_MAX_BYTES, createApp } from '../app.ts';
import type { AdmissionOutcome } from './admission-controller.ts';
import { admissionOver } from './admission.test-helper.ts';
import type { AdmissionRequest } from './review.ts';

/** Runs per property: 3000 + 6400 + 600 (each a sequence of 10 to 40 steps) = 10 000. */
const RUNS = { bodies: 3000, reviews: 6400, model: 600 };

const TENANT_LABEL = 'tai.dev/tenant';
/** What the watch has delivered: namespaces labelled for a tenant, selected by stark's selector, labelled for a missing tenant, nobody's. */
const LIVE_NAMESPACES: Record<string, Record<string, string>> = {
  'acme-a': { [TENANT_LABEL]: 'acme' },
  'acme-b': { [TENANT_LABEL]: 'acme' },
  'hooli-a': { [TENANT_LABEL]: 'hooli' },
  'umb-a': { [TENANT_LABEL]: 'umbrella' },
  'si-1': { customer: 'stark-industries' },
  'ghost-a': { [TENANT_LABEL]: 'ghost' },
  'free-a': {},
};
/** The reasons design §4 and the admission checks document for a denial. */
const DENIAL_REASONS = new Set(['UnknownTenant', 'TenantSuspended', 'ResourceCapExceeded', 'SKUNotFound', 'InheritanceCycle', 'InvalidSpec']);

/**
 * The app over the sample admission policy (admission.test-helper's POLICY), recording receipts in a real chain.
 * The watch is simulated for TAI's own kinds: an admitted SKU, Tenant or Quota reaches the compiler at once, or
 * every fourth one 5 ms later, so that reviews referencing it pass the controller's read-your-writes barrier.
 */
function setup() {
  const adm = admissionOver();
  for (const [name, labels] of Object.entries(LIVE_NAMESPACES)) adm.deliver('namespaces', { metadata: { name, labels } });
  const chain = new ReceiptChain();
  const recorded: ReceiptBody[] = [];
  const errors: unknown[] = [];
  /** Every body admission records must be writable as a receipt (encodeReceipt, inside append) and read back the same. */
  const record = (body: ReceiptBody) => {
    const entry = chain.append('admission', body, adm.clock.now * 1000);
    if (!isDeepStrictEqual(decodeReceipt(entry.bytes).body, body)) throw new Error(`receipt body does not round-trip: ${JSON.stringify(body)}`);
    recorded.push(body);
    return { index: entry.index, leafHash: toHex(entry.leafHash) };
  };
  let admitted = 0;
  const watch = ({ request, outcome }: { request: AdmissionRequest; outcome: AdmissionOutcome }) => {
    if (request.resource.group !== 'tai.dev' || !outcome.allowed || request.dryRun === true || request.subResource || !['CREATE', 'UPDATE'].includes(request.operation)) return;
    const parsed = parseApiObject(request.object);
    if ('errors' in parsed) return;
    const deliver = () => adm.compiler.apply({ upsert: [parsed.resource.resource] }, adm.clock.now);
    if (++admitted % 4 === 0) setTimeout(deliver, 5);
    else deliver();
  };
  const policy = new CompiledPolicy(adm.compiler);
  const app = createApp({
    decisions: new Governor({ policy, clock: { now: () => adm.clock.now } }),
    tenant: (n) => policy.tenant(n, adm.clock.now),
    readiness: () => ({ ready: true, generation: 1, tenants: adm.compiler.snapshot.tenants.size, problems: 0, staleMs: 0, source: 'test' }),
    onError: (e) => errors.push(e),
    admission: { controller: adm.controller, record: async (body) => record(body), observe: watch },
  });
  return { ...adm, app, recorded, errors };
}
type Env = ReturnType<typeof setup>;

// ---------------------------------------------------------------------------------------------------------------
// Generators

/**
 * What may be generated. `knownBugs` adds the inputs that answer 500 today (see the failing property at the end);
 * `taiDepth` bounds nesting inside TAI's own kinds: parseApiObject recurses, and about 2000 levels overflow the stack
 * (the fuzz found 2058); core objects are read at fixed paths, so any depth is fine there.
 */
interface Flavor {
  knownBugs: boolean;
  taiDepth: number;
}
const CLEAN: Flavor = { knownBugs: false, taiDepth: 500 };
const BUGGY: Flavor = { knownBugs: true, taiDepth: 20_000 };
const CORE_DEPTH = 20_000;

/** JSON text that JSON.stringify cannot write, spliced in after it: numbers past float range, -0, deep nesting. */
const RAW = ['1e400', '-1e400', '9007199254740993', '-0', '1E-400', '123456789012345678901234567890', '0.1e1'];
const raw = fc.nat(RAW.length - 1).map((i) => `@@raw:${i}@@`);
const deep = (max: number) => fc.tuple(fc.constantFrom('a', 'o'), fc.integer({ min: 2, max })).map(([k, n]) => `@@deep:${k}:${n}@@`);
function splice(text: string): string {
  return text
    .replace(/"@@raw:(\d+)@@"/g, (_, i: string) => RAW[Number(i)]!)
    .replace(/"@@deep:([ao]):(\d+)@@"/g, (_, k: string, n: string) => (k === 'a' ? '['.repeat(Number(n)) + ']'.repeat(Number(n)) : '{"a":'.repeat(Number(n)) + 'null' + '}'.repeat(Number(n))));
}

/** A body to send; a counterexample prints it before splicing, and shortened (some are megabytes long). */
interface Sent {
  text: string;
  [fc.toStringMethod]: () => string;
}
const bodyOf = (text: string): Sent => ({ text: splice(text), [fc.toStringMethod]: () => JSON.stringify(text.length > 1200 ? `${text.slice(0, 900)}…(${text.length} chars)…${text.slice(-200)}` : text) });

/** An object with an own `key` (also `__proto__`), as JSON.parse would build it. */
const withKey = (key: string, value: unknown): object => Object.defineProperty({}, key, { value, enumerable: true, writable: true, configurable: true });

const PRIMITIVE_JUNK = [null, true, false, 0, -1, -0.5, 0.1, 1e308, -1e308, 2 ** 53, 2 ** 64, Number.MIN_VALUE, '', ' ', '-1', '-100m', '1e999', 'NaN', 'Infinity', '0x10', '1Gi ', '__proto__', '\u0000', '😀😀'];
/** Lone UTF-16 surrogates: JSON escapes them (`"\ud800"`) and JSON.parse gives them back. */
const LONE_SURROGATES = ['\ud800', 'web-\udfff', '\udc00\ud800', 'a\ud83d'];
/** Objects String() and template literals cannot convert (their toString and valueOf are not functions). */
const UNPRINTABLE: unknown[] = [{ toString: 1 }, { toString: {}, valueOf: [] }, [{ toString: 1 }]];

function junkOf(depth: number) {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PRIMITIVE_JUNK) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', 'prototype'), fc.jsonValue({ maxDepth: 1 })).map(([k, v]) => withKey(k, v)) },
    { weight: 1, arbitrary: raw },
    { weight: 1, arbitrary: deep(depth) },
    { weight: 1, arbitrary: fc.constantFrom([], {}, [null], [[]], { a: {} }) },
  );
}

function arbitraries(f: Flavor) {
  const junk = junkOf(CORE_DEPTH);
  const taiJunk = junkOf(f.taiDepth);
  const buggy = <T>(clean: fc.Arbitrary<T>, bugs: readonly unknown[]): fc.Arbitrary<unknown> =>
    f.knownBugs ? fc.oneof({ weight: 2, arbitrary: clean }, { weight: 1, arbitrary: fc.constantFrom(...bugs) }) : clean;
  /** Mostly the value, sometimes junk of any type in its place. */
  const maybe = <T>(a: fc.Arbitrary<T>, j: fc.Arbitrary<unknown> = junk) => fc.oneof({ weight: 9, arbitrary: a as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: j });
  const text = buggy(fc.string({ unit: 'binary', maxLength: 30 }), LONE_SURROGATES);
  const name = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('web', 'db', 'api-1', 'x') }, { weight: 1, arbitrary: text }, { weight: 1, arbitrary: buggy(fc.constantFrom(...PRIMITIVE_JUNK, [], {}), UNPRINTABLE) });
  const namespace = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('acme-a', 'acme-b', 'hooli-a') },
    { weight: 4, arbitrary: fc.constantFrom(...Object.keys(LIVE_NAMESPACES), 'new-1', 'new-2', 'nowhere') },
    { weight: 1, arbitrary: text },
  );
  /** Rarely present: a field whose presence alone decides (a subresource, a deletion in progress). */
  const rarely = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 15, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

  const quantityOr = (j: fc.Arbitrary<unknown>) =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('100m', '250m', '500m', '1', '2', '0.5', '1500m', '64Mi', '128Mi', '1Gi', '3Gi', '5Gi', '10Gi', '0', 1, 2, 0) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 4000 }).map((n) => `${n}m`) },
      { weight: 2, arbitrary: fc.constantFrom(-1, '-5', '-100m', 1e308, '1e308', '9e18', '99999999999Ei', '1e-9', '1.5.5', '', 'lots', 2 ** 53, 0.0001, '1n') },
      { weight: 1, arbitrary: j },
    );
  const quantity = quantityOr(junk);
  const amounts = fc.record({ cpu: quantity, memory: quantity, 'ephemeral-storage': quantity }, { requiredKeys: [] });
  const resources = fc.record({ requests: maybe(amounts), limits: maybe(amounts) }, { requiredKeys: [] });
  const container = fc.record({ name: fc.constantFrom('app', 'side'), image: fc.constant('nginx'), resources: maybe(resources), restartPolicy: fc.constantFrom('Always', 'Never') }, { requiredKeys: ['name'] });
  const containers = (max: number) => maybe(fc.array(maybe(container), { maxLength: max }));
  const podSpec = fc.record({ containers: containers(3), initContainers: containers(2), overhead: maybe(amounts) }, { requiredKeys: ['containers'] });
  const replicas = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) }, { weight: 2, arbitrary: fc.constantFrom(-1, 1.5, 1e308, 2 ** 53, 2 ** 53 - 1, '3', null) }, { weight: 1, arbitrary: junk });
  const workload = (field: string) => fc.record({ [field]: replicas, template: maybe(fc.record({ metadata: fc.constant({ labels: { app: 'x' } }), spec: maybe(podSpec) })) }, { requiredKeys: [] });

  const tenantName = buggy(fc.oneof(fc.constantFrom('acme', 'hooli', 'umbrella', 'stark', 'ghost', '', '__proto__', 'constructor'), fc.string({ maxLength: 10 })), [5, null, true, ['acme'], ...UNPRINTABLE, ...LONE_SURROGATES]);
  const namespaceLabels = fc.oneof(
    fc.record({ [TENANT_LABEL]: tenantName }),
    fc.constant({ customer: 'stark-industries' }),
    fc.record({ [TENANT_LABEL]: tenantName, customer: fc.constantFrom('stark-industries', 'other') }),
    fc.constant({}),
    fc.dictionary(fc.constantFrom('customer', 'team', '__proto__', 'constructor'), junk, { maxKeys: 3 }),
    junk,
  );

  /**
   * What TAI objects reference: the sample plans, plans the fuzz creates, and two it never creates. The objects it
   * admits are delivered to the compiler (see setup) under other names, so the sample tenants' caps never drift.
   */
  const skuName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('small', 'big', 'fresh', 'loop', 'missing', 'gold') }, { weight: 1, arbitrary: fc.constantFrom('Bad_Name', '', '-x') }, { weight: 1, arbitrary: taiJunk });
  const policyName = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('fresh', 'loop', 'spare') }, { weight: 1, arbitrary: fc.constantFrom('Bad_Name', '', '-x') }, { weight: 1, arbitrary: name });
  const quotaSpec = fc.record(
    { limit: maybe(fc.nat(1000), taiJunk), kind: fc.constantFrom('counter', 'gauge'), window: fc.constantFrom('month', 'day', 'none', 'fortnight'), enforcement: fc.constantFrom('hard', 'soft', 'observe'), alertAt: fc.array(fc.integer({ min: 0, max: 101 }), { maxLength: 3 }) },
    { requiredKeys: ['limit'] },
  );
  const entitlements = {
    features: maybe(fc.dictionary(fc.constantFrom('sso', 'seats', 'tier', '__proto__'), fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 5 }), taiJunk), { maxKeys: 3 }), taiJunk),
    quotas: maybe(fc.dictionary(fc.constantFrom('api-calls', 'builds'), maybe(quotaSpec, taiJunk), { maxKeys: 2 }), taiJunk),
    resources: maybe(fc.dictionary(fc.constantFrom('namespaces', 'count/pods', 'requests.cpu', 'requests.memory', 'limits.gpu'), quantityOr(taiJunk), { maxKeys: 3 }), taiJunk),
  };
  const skuSpec = fc.record({ extends: skuName, displayName: fc.string({ maxLength: 10 }), ...entitlements }, { requiredKeys: [] });
  const tenantSpec = fc.record(
    { sku: skuName, addOns: maybe(fc.array(fc.record({ sku: skuName, quantity: maybe(fc.nat(3), taiJunk) }, { requiredKeys: ['sku'] }), { maxLength: 2 }), taiJunk), suspended: maybe(fc.boolean(), taiJunk), namespaceSelector: maybe(fc.record({ matchLabels: fc.dictionary(fc.constantFrom('customer', 'team'), fc.string({ minLength: 1, maxLength: 5 }), { minKeys: 1, maxKeys: 2 }) }), taiJunk) },
    { requiredKeys: ['sku'] },
  );
  const quotaGrantSpec = fc.record(
    { tenant: fc.constantFrom('acme', 'ghost'), metric: fc.constantFrom('api-calls', 'x'), mode: fc.constantFrom('add', 'replace', 'double'), limit: maybe(fc.nat(), taiJunk), validFrom: fc.constantFrom('2026-01-01T00:00:00Z', 'yesterday'), validUntil: fc.constant('2027-01-01T00:00:00Z') },
    { requiredKeys: ['metric', 'limit'] },
  );
  const taiObject = (kind: string, spec: fc.Arbitrary<unknown>) =>
    fc.record(
      {
        apiVersion: fc.oneof({ weight: 9, arbitrary: fc.constant('tai.dev/v1alpha1') }, { weight: 1, arbitrary: fc.constantFrom('tai.dev/v1', 'v1') }),
        // Never another TAI kind: the API server sends the kind the request names (and the barrier waits by it).
        kind: fc.oneof({ weight: 12, arbitrary: fc.constant(kind) }, { weight: 1, arbitrary: fc.constantFrom('Pod', 'Namespace') }, { weight: 1, arbitrary: buggy(fc.constantFrom(...PRIMITIVE_JUNK), UNPRINTABLE) }),
        metadata: fc.record({ name: policyName, resourceVersion: fc.constantFrom('1', '2'), managedFields: fc.constant([{}]) }, { requiredKeys: ['name'] }),
        spec: maybe(spec, taiJunk),
        status: taiJunk,
      },
      { requiredKeys: ['apiVersion', 'kind', 'metadata'] },
    );

  /** A well-formed SKU whose parent closes a cycle (small → big → small, loop → loop), is missing, or resolves. */
  const chainedSku = fc
    .tuple(fc.constantFrom(['small', 'big'], ['loop', 'loop'], ['fresh', 'missing'], ['fresh', 'big'], ['spare', 'fresh']), fc.dictionary(fc.constantFrom('namespaces', 'count/pods'), fc.nat(20), { maxKeys: 2 }))
    .map(([[name, parent], resources]) => ({ apiVersion: 'tai.dev/v1alpha1', kind: 'SKU', metadata: { name }, spec: { extends: parent, resources } }));
  const meta = (namespaced: boolean) =>
    fc.record(
      { name, namespace: namespaced ? namespace : fc.constant(undefined), labels: namespaced ? maybe(fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 })) : namespaceLabels, resourceVersion: maybe(fc.constantFrom('1', '2', '3')), deletionTimestamp: rarely(fc.constant('2026-11-23T00:00:00Z')) },
      { requiredKeys: ['name'] },
    );
  const core = (namespaced: boolean, fields: Record<string, fc.Arbitrary<unknown>>) => fc.record<Record<string, unknown>>({ metadata: maybe(meta(namespaced)), ...fields }, { requiredKeys: ['metadata', ...Object.keys(fields).filter((k) => k !== 'status')] });
  /** What each API resource carries, and how often it is reviewed; the request's kind and resource follow from the key. */
  const objects: Record<string, [string, string, string, fc.Arbitrary<unknown>, number]> = {
    namespaces: ['', 'v1', 'Namespace', core(false, {}), 3],
    pods: ['', 'v1', 'Pod', core(true, { spec: maybe(podSpec), status: fc.record({ phase: fc.constantFrom('Pending', 'Running', 'Succeeded', 'Failed') }) }), 5],
    services: ['', 'v1', 'Service', core(true, { spec: maybe(fc.record({ type: maybe(fc.constantFrom('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName')), ports: maybe(fc.array(maybe(fc.record({ port: fc.integer({ min: 1, max: 65535 }) })), { maxLength: 4 })) }, { requiredKeys: [] })) }), 2],
    persistentvolumeclaims: ['', 'v1', 'PersistentVolumeClaim', core(true, { spec: maybe(fc.record({ resources: maybe(fc.record({ requests: maybe(fc.record({ storage: quantity })) })) })) }), 2],
    configmaps: ['', 'v1', 'ConfigMap', core(true, { data: maybe(fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 })) }), 1],
    deployments: ['apps', 'v1', 'Deployment', core(true, { spec: maybe(workload('replicas')) }), 1],
    statefulsets: ['apps', 'v1', 'StatefulSet', core(true, { spec: maybe(workload('replicas')) }), 1],
    jobs: ['batch', 'v1', 'Job', core(true, { spec: maybe(workload('parallelism')) }), 1],
    widgets: ['example.com', 'v1', 'Widget', core(true, { spec: junk }), 1],
    skus: ['tai.dev', 'v1alpha1', 'SKU', fc.oneof(taiObject('SKU', skuSpec), chainedSku), 3],
    tenants: ['tai.dev', 'v1alpha1', 'Tenant', taiObject('Tenant', tenantSpec), 2],
    quotas: ['tai.dev', 'v1alpha1', 'Quota', taiObject('Quota', quotaGrantSpec), 1],
  };

  /** A structurally valid AdmissionReview (junk only inside object and oldObject), as JSON text (printed before splicing), with its uid. */
  const resource = fc.oneof(...Object.entries(objects).map(([r, o]) => ({ weight: o[4], arbitrary: fc.constant(r) })));
  const review = resource.chain((resource) => {
    const [group, version, kind, object] = objects[resource]!;
    const request = fc.record(
      {
        uid: fc.oneof({ weight: 8, arbitrary: fc.uuid() }, { weight: 1, arbitrary: fc.constantFrom('retry-1', 'retry-2') }, { weight: 1, arbitrary: buggy(fc.string({ minLength: 1, maxLength: 128 }), LONE_SURROGATES) }),
        kind: fc.record({ group: fc.constant(group), version: fc.constant(version), kind: fc.oneof({ weight: 9, arbitrary: fc.constant(kind) }, { weight: 1, arbitrary: text }) }),
        resource: fc.record({ group: fc.constant(group), version: fc.constant(version), resource: fc.constant(resource) }),
        subResource: rarely(fc.constantFrom('status', 'scale', '')),
        name: text,
        namespace,
        operation: fc.oneof({ weight: 6, arbitrary: fc.constant('CREATE') }, { weight: 3, arbitrary: fc.constant('UPDATE') }, { weight: 1, arbitrary: fc.constantFrom('DELETE', 'CONNECT') }),
        userInfo: fc.record({ username: text, groups: fc.constant(['system:authenticated']) }, { requiredKeys: [] }),
        object: fc.oneof({ weight: 9, arbitrary: object }, { weight: 1, arbitrary: fc.constant(null) }),
        oldObject: fc.oneof(object, fc.constant(null)),
        dryRun: fc.boolean(),
        options: fc.constant({ kind: 'CreateOptions' }),
      },
      { requiredKeys: ['uid', 'kind', 'resource', 'operation'] },
    );
    return request.map((r) => ({ uid: r.uid as string, dryRun: r.dryRun === true, ...bodyOf(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: r })) }));
  });
  return { review };
}

// ---------------------------------------------------------------------------------------------------------------
// Checks

interface Answer {
  status: number;
  json: unknown;
}

/** Every answer: a documented status, no onError (no 500), and a precise problem for every error. */
async function checkAnswer(env: Env, res: Response): Promise<Answer> {
  const errors = env.errors.splice(0); // taken, so that a shrunk counterexample is judged on its own
  if (errors.length > 0) throw new Error(`${res.status}; onError was called: ${(errors[0] as Error).stack ?? String(errors[0])}`);
  if (![200, 400, 413, 415].includes(res.status)) throw new Error(`status ${res.status}: ${await res.text()}`);
  const text = await res.text();
  const json = JSON.parse(text) as unknown;
  if (res.status === 200) return { status: 200, json };
  if (res.headers.get('content-type') !== 'application/problem+json') throw new Error(`${res.status} with content-type ${res.headers.get('content-type')}`);
  const p = json as { status?: unknown; detail?: unknown; type?: unknown };
  if (p.status !== res.status || typeof p.detail !== 'string' || p.detail.trim() === '' || typeof p.type !== 'string') throw new Error(`imprecise problem: ${text}`);
  return { status: res.status, json };
}

interface Verdict {
  uid?: unknown;
  allowed?: unknown;
  status?: { code?: unknown; reason?: unknown; message?: unknown };
  warnings?: unknown;
  auditAnnotations?: { receipt?: unknown };
}

/** A 200 answers the review it was asked: its uid, a boolean verdict, a documented reason, and the receipt recorded for it. */
function checkVerdict(env: Env, sent: { uid: string; dryRun: boolean }, json: unknown, recordedBefore: number): string {
  const { apiVersion, kind, response: r } = json as { apiVersion?: unknown; kind?: unknown; response: Verdict };
  if (apiVersion !== 'admission.k8s.io/v1' || kind !== 'AdmissionReview' || r.uid !== sent.uid || typeof r.allowed !== 'boolean') throw new Error(`not an answer to ${JSON.stringify(sent.uid)}: ${JSON.stringify(json)}`);
  const reason = r.allowed ? 'Allowed' : r.status?.reason;
  if (!r.allowed && (r.status?.code !== 403 || !DENIAL_REASONS.has(reason as string) || typeof r.status.message !== 'string' || r.status.message.trim() === '')) throw new Error(`imprecise denial: ${JSON.stringify(r)}`);
  if (r.allowed && r.status !== undefined) throw new Error(`an allowed answer with a status: ${JSON.stringify(r)}`);
  if (r.warnings !== undefined && !(Array.isArray(r.warnings) && r.warnings.every((w) => typeof w === 'string' && w !== ''))) throw new Error(`bad warnings: ${JSON.stringify(r.warnings)}`);
  const body = env.recorded[recordedBefore];
  if (env.recorded.length !== recordedBefore + 1 || r.auditAnnotations?.receipt !== String(recordedBefore) || !body) throw new Error(`receipt not recorded once: ${JSON.stringify(r.auditAnnotations)}`);
  if (body.uid !== sent.uid || body.allowed !== r.allowed || body.reason !== reason || body.dryRun !== sent.dryRun || (body.reserved === true && (sent.dryRun || !r.allowed))) {
    throw new Error(`receipt ${JSON.stringify(body)} does not match the answer ${JSON.stringify(r)}`);
  }
  return reason as string;
}

const post = (env: Env, body: string, type: string): Promise<Response> =>
  Promise.resolve(env.app.request('/admission/validate', { method: 'POST', headers: type ? { 'content-type': type } : {}, body }));

const tallyOf = () => new Map<string, number>();
const count = (m: Map<string, number>, k: string | number) => m.set(String(k), (m.get(String(k)) ?? 0) + 1);
const show = (m: Map<string, number>) => JSON.stringify(Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1))));

/** Sends a review; every answer passes checkAnswer, a well-formed review is answered 200 with a checked verdict. */
async function sendReview(env: Env, sent: { uid: string; dryRun: boolean; text: string }): Promise<string> {
  const before = env.recorded.length;
  const { status, json } = await checkAnswer(env, await post(env, sent.text, 'application/json'));
  if (status !== 200) throw new Error(`a well-formed review answered ${status}: ${JSON.stringify(json)}`);
  return checkVerdict(env, sent, json, before);
}

// ---------------------------------------------------------------------------------------------------------------
// Properties

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'application/merge-patch+json', 'application/jsonx', 'text/json', 'text/plain', 'application/yaml', 'multipart/form-data; boundary=x', ''];
const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) }, { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 30 }) });
/** Just past the limit (413 whatever it holds), and valid JSON exactly at it (never 413). */
const OVER_LIMIT = ' '.repeat(ADMISSION_MAX_BYTES + 1);
const AT_LIMIT = `{"a":"${'x'.repeat(ADMISSION_MAX_BYTES - 8)}"}`;

test('property: POST /admission/validate answers any body and content type with 200 or a precise 400, 413 or 415', async (t) => {
  const env = setup();
  const statuses = tallyOf();
  const { review } = arbitraries(CLEAN);
  const body = fc.oneof(
    { weight: 4, arbitrary: review as fc.Arbitrary<Sent> },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => bodyOf(JSON.stringify(v))) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((request) => bodyOf(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }))) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((text) => bodyOf(text)) },
    { weight: 1, arbitrary: fc.constantFrom('', '{', 'null', '[]', '{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}', '{"__proto__":{"polluted":1}}', '"@@deep:a:100000@@"', OVER_LIMIT, AT_LIMIT).map((text) => bodyOf(text)) },
  );
  await fc.assert(
    fc.asyncProperty(body, contentType, async ({ text }, type) => {
      const { status } = await checkAnswer(env, await post(env, text, type));
      count(statuses, status);
      if (text === OVER_LIMIT && status !== 413) throw new Error(`a body over the limit answered ${status}`);
      if (text === AT_LIMIT && status === 413) throw new Error('a body at the limit answered 413');
    }),
    { numRuns: RUNS.bodies, includeErrorInReport: true },
  );
  t.log(`statuses: ${show(statuses)}`);
  t.deepEqual(env.errors, []);
  for (const s of ['200', '400', '413', '415']) t.true((statuses.get(s) ?? 0) > 0, `some bodies answer ${s}`);
});

test('property: every well-formed AdmissionReview is answered 200 with its uid, a boolean verdict, a documented reason and a receipt', async (t) => {
  const env = setup();
  const reasons = tallyOf();
  const { review } = arbitraries(CLEAN);
  await fc.assert(
    fc.asyncProperty(review, fc.integer({ min: 0, max: 300 }), async (sent, ms) => {
      env.clock.now += ms; // so reservations expire now and then, and caps free up
      count(reasons, await sendReview(env, sent));
    }),
    { numRuns: RUNS.reviews, includeErrorInReport: true },
  );
  t.log(`reasons: ${show(reasons)}`);
  t.deepEqual(env.errors, []);
  for (const r of ['Allowed', ...DENIAL_REASONS]) t.true((reasons.get(r) ?? 0) > 0, `some reviews answer ${r}`);
});

// The model: Pods created in acme's two namespaces (plan "small": 10 Pods, 2 cores, 4Gi across its namespaces).
const CAPS = { 'count/pods': 10_000, 'requests.cpu': 2000, 'requests.memory': 4 * 2 ** 30 * 1000 };
type Capped = keyof typeof CAPS;
const CAPPED = Object.keys(CAPS) as Capped[];
/** Requests as written, and in the milli-units caps are counted in (bytes × 1000 for memory). */
const CPU: Array<[string | number, number]> = [['1m', 1], ['10m', 10], ['100m', 100], ['250m', 250], ['500m', 500], ['1', 1000], ['1500m', 1500], ['0.1', 100], [0.25, 250]];
const MEMORY: Array<[string, number]> = [['64Mi', 64 * 2 ** 20 * 1000], ['256Mi', 256 * 2 ** 20 * 1000], ['1Gi', 2 ** 30 * 1000], ['1500Mi', 1500 * 2 ** 20 * 1000], ['2Gi', 2 * 2 ** 30 * 1000]];
/** How long an admitted Pod's reservation lasts (the controller's default). */
const TTL_MS = 30_000;

interface CreateAction {
  ns: string;
  containers: Array<{ cpu?: number; memory?: number }>;
  dryRun: boolean;
}
/** Often nothing, so that the count/pods cap is reached too. */
const containerRequests = fc.oneof(fc.constant({}), fc.record({ cpu: fc.nat(CPU.length - 1), memory: fc.nat(MEMORY.length - 1) }, { requiredKeys: [] }));
const action = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('create' as const), ns: fc.constantFrom('acme-a', 'acme-b'), containers: fc.array(containerRequests, { minLength: 1, maxLength: 2 }), dryRun: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deliver' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
);

interface ModelPod {
  object: Record<string, unknown>;
  usage: Record<Capped, number>;
  state: 'reserved' | 'delivered' | 'removed';
  expiresAt: number;
}

function podOf(a: CreateAction, name: string): Pick<ModelPod, 'object' | 'usage'> {
  const usage: Record<Capped, number> = { 'count/pods': 1000, 'requests.cpu': 0, 'requests.memory': 0 };
  const containers = a.containers.map((c, i) => {
    const requests: Record<string, string | number> = {};
    if (c.cpu !== undefined) [requests.cpu, usage['requests.cpu']] = [CPU[c.cpu]![0], usage['requests.cpu'] + CPU[c.cpu]![1]];
    if (c.memory !== undefined) [requests.memory, usage['requests.memory']] = [MEMORY[c.memory]![0], usage['requests.memory'] + MEMORY[c.memory]![1]];
    return { name: `c${i}`, image: 'nginx', resources: { requests } };
  });
  return { object: { metadata: { name, namespace: a.ns, resourceVersion: '1' }, spec: { containers } }, usage };
}

/** What the admitted Pods use now: delivered ones, and reserved ones whose reservation has not expired. */
function modelUsage(pods: readonly ModelPod[], now: number): Record<Capped, number> {
  const used: Record<Capped, number> = { 'count/pods': 0, 'requests.cpu': 0, 'requests.memory': 0 };
  for (const p of pods) {
    if (p.state === 'removed' || (p.state === 'reserved' && p.expiresAt <= now)) continue;
    for (const k of CAPPED) used[k] += p.usage[k];
  }
  return used;
}

/** The first cap (in name order, as the controller checks them) a create would pass; a request of 0 is not checked. */
const breached = (used: Record<Capped, number>, adds: Record<Capped, number>) => CAPPED.sort().find((k) => adds[k] > 0 && used[k] + adds[k] > CAPS[k]);

/** Sends a Pod create and checks the answer against the model; returns the cap it was denied for, if any. */
async function modelCreate(env: Env, pods: ModelPod[], a: CreateAction, i: number): Promise<string | undefined> {
  const { object, usage } = podOf(a, `p${i}`);
  const used = modelUsage(pods, env.clock.now);
  const expected = breached(used, usage);
  const pending = () => env.reservations.pending('acme', env.clock.now);
  const before = pending();
  const request = { uid: `model-${i}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, namespace: a.ns, operation: 'CREATE', object, dryRun: a.dryRun };
  const reason = await sendReview(env, { uid: request.uid, dryRun: a.dryRun, text: JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }) });
  const cap = (env.recorded.at(-1)?.cap as { resource?: string } | undefined)?.resource;
  if (reason !== (expected ? 'ResourceCapExceeded' : 'Allowed') || cap !== expected) {
    throw new Error(`${request.uid} (adds ${JSON.stringify(usage)}) answered ${reason} for ${cap ?? 'no cap'}; the model, with ${JSON.stringify(used)} in use, expected ${expected ?? 'Allowed'}`);
  }
  if (a.dryRun && !isDeepStrictEqual(pending(), before)) throw new Error(`dry run ${request.uid} changed what acme has reserved`);
  if (!expected && !a.dryRun) pods.push({ object, usage, state: 'reserved', expiresAt: env.clock.now + TTL_MS });
  return expected;
}

/** The watch delivers a Pod whose reservation is still live (an expired one was never created), or deletes a delivered one. */
function modelWatch(env: Env, pods: ModelPod[], a: { op: 'deliver' | 'remove'; pick: number }): void {
  const candidates = pods.filter((p) => (a.op === 'deliver' ? p.state === 'reserved' && p.expiresAt > env.clock.now : p.state === 'delivered'));
  const pod = candidates[a.pick % Math.max(candidates.length, 1)];
  if (!pod) return;
  if (a.op === 'deliver') env.deliver('pods', pod.object);
  else env.ledger.remove('pods', pod.object as never);
  pod.state = a.op === 'deliver' ? 'delivered' : 'removed';
}

test('property (model): Pod creates in one tenant are admitted exactly when they fit its caps, never pass them, and dry runs change nothing', async (t) => {
  const outcomes = tallyOf();
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: 40, size: 'max' }), async (actions) => {
      const env = setup();
      const pods: ModelPod[] = [];
      for (const [i, a] of actions.entries()) {
        if (a.op === 'create') count(outcomes, (await modelCreate(env, pods, a, i)) ?? 'Allowed');
        else if (a.op === 'tick') env.clock.now += a.ms;
        else modelWatch(env, pods, a);
        const used = modelUsage(pods, env.clock.now);
        if (!CAPPED.every((k) => used[k] <= CAPS[k])) throw new Error(`admitted Pods use ${JSON.stringify(used)}, past the caps ${JSON.stringify(CAPS)}`);
      }
    }),
    { numRuns: RUNS.model, includeErrorInReport: true },
  );
  t.log(`creates: allowed, or the cap denying them: ${show(outcomes)}`);
  for (const k of ['Allowed', ...CAPPED]) t.true((outcomes.get(k) ?? 0) > 0, `some creates answer ${k}`);
});

// Inputs that once answered 500 (the admission code and receipts disagreed on what a review may hold), minimal cases:
//   1. a lone UTF-16 surrogate in any text the receipt records (uid, namespace, name, userInfo.username, resource):
//      now a 400 naming the field (the text is not valid Unicode, so it cannot be recorded);
//   2. a Namespace whose `tai.dev/tenant` label is not a string ({"tai.dev/tenant": 5}): such labels are ignored;
//   3. an object String() cannot convert ({"toString": 1}) as that label, as a workload's metadata.name, or as an
//      SKU/Tenant/Quota's kind or metadata.name: read only when they are text;
//   4. an SKU/Tenant/Quota nested ~3000 levels deep: refused (InvalidSpec) past 64 levels, before recursion.
// Each is now answered 200 with a verdict, or 400 with a detail; never 500.
test('property: reviews that once answered 500 (lone surrogates, non-text labels and names, deep TAI objects) are answered', async (t) => {
  const env = setup();
  const { review } = arbitraries(BUGGY);
  await fc.assert(
    fc.asyncProperty(review, async (sent) => {
      const before = env.recorded.length;
      const { status, json } = await checkAnswer(env, await post(env, sent.text, 'application/json'));
      if (status === 200) checkVerdict(env, sent, json, before);
      else if (status !== 400 || !/lone UTF-16 surrogate/.test(String((json as { detail?: unknown }).detail))) throw new Error(`answered ${status}: ${JSON.stringify(json)}`);
    }),
    { numRuns: 2000, includeErrorInReport: true },
  );
  t.pass();
});
