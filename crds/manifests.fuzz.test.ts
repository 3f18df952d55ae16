// Fuzzing of the manifest reader (design §11: bad YAML of any shape gets a precise error, never a crash).
import { readFileSync } from 'node:fs';
import test from 'ava';
import fc from 'fast-check';
import { kindInfo } from './kinds.ts';
import { loadManifestSet, type ManifestFile } from './manifest-set.ts';
import { parseManifests, resourceKey, type PolicyError } from './manifests.ts';
import { API_VERSION } from './meta.ts';

const RUNS = 500;
const SAMPLE_NAMES = ['skus.yaml', 'tenants.yaml', 'quotas.yaml'] as const;
const SAMPLES: ManifestFile[] = SAMPLE_NAMES.map((name) => ({
  file: `config/samples/${name}`,
  text: readFileSync(new URL(`../config/samples/${name}`, import.meta.url), 'utf8'),
}));

const lineCount = (text: string): number => text.split(/\r\n|\r|\n/).length;

/** Every error names a file we gave, says something, and points at a line that exists. */
function assertWellFormedErrors(errors: readonly PolicyError[], texts: ReadonlyMap<string, string>): void {
  for (const e of errors) {
    const text = texts.get(e.file);
    if (text === undefined) throw new Error(`error names an unknown file: ${JSON.stringify(e)}`);
    if (typeof e.message !== 'string' || e.message.trim() === '') throw new Error(`error without a message: ${JSON.stringify(e)}`);
    if (typeof e.path !== 'string') throw new Error(`error without a path: ${JSON.stringify(e)}`);
    if (e.line === undefined) continue;
    if (!Number.isInteger(e.line) || e.line < 1 || e.line > lineCount(text)) {
      throw new Error(`line ${e.line} is outside ${e.file} (${lineCount(text)} lines): ${JSON.stringify(e)}`);
    }
  }
}

/** Every resource returned passes its kind's schema again (a bad document never yields a resource). */
function assertValidResources(resources: Iterable<{ resource: { kind: string } }>): void {
  for (const { resource } of resources) {
    const info = kindInfo(resource.kind);
    if (!info) throw new Error(`resource of unknown kind ${resource.kind}`);
    const again = info.schema.safeParse(resource);
    if (!again.success) throw new Error(`resource fails its schema: ${again.error.message}`);
  }
}

// ---- (a) arbitrary text and mutations of the samples ----

const bytesOf = (s: string): Buffer => Buffer.from(s, 'utf8');

type Mutation = (text: string) => string;

const atLine = (f: (lines: string[], i: number) => void) => (pick: number): Mutation => (text) => {
  const lines = text.split('\n');
  f(lines, pick % lines.length);
  return lines.join('\n');
};

/** Things that change how YAML reads: anchors, aliases, tags, directives, flow and block indicators. */
const YAML_SPICE = ['*a', '&a ', '<<: ', '!!set ', '!!binary ', '%YAML 1.1\n', '? ', '- ', ': ', '{', '}', '[', ']', '"', "'", '#', '|', '>-', '\t', '---\n', '...\n', '\r', '\0', '\uFEFF', '~', '9007199254740993', '-1', '1.5', '.nan'];

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }).map(({ at, bit }): Mutation => (text) => {
    const b = bytesOf(text);
    if (b.length === 0) return text;
    b[at % b.length]! ^= 1 << bit;
    return b.toString('utf8');
  }),
  fc.nat().map((n): Mutation => (text) => bytesOf(text).subarray(0, n % (bytesOf(text).length + 1)).toString('utf8')),
  fc.nat().map(atLine((lines, i) => void lines.splice(i, 1))),
  fc.nat().map(atLine((lines, i) => void lines.splice(i, 0, lines[i]!))),
  fc.tuple(fc.nat(), fc.integer({ min: 0, max: 9 }), fc.boolean()).map(([pick, n, tab]) =>
    atLine((lines, i) => void (lines[i] = (tab ? '\t' : ' '.repeat(n)) + lines[i]!.trimStart()))(pick),
  ),
  fc.tuple(fc.nat(), fc.constantFrom(...YAML_SPICE)).map(([at, spice]): Mutation => (text) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + spice + text.slice(i);
  }),
);

const mutatedSample = fc
  .record({ sample: fc.integer({ min: 0, max: SAMPLES.length - 1 }), mutations: fc.array(mutation, { minLength: 1, maxLength: 6 }) })
  .map(({ sample, mutations }) => ({ sample, text: mutations.reduce((t, m) => m(t), SAMPLES[sample]!.text) }));

const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom(...YAML_SPICE, 'a', 'b', ' ', '\n', 'kind', 'SKU', 'apiVersion', API_VERSION), maxLength: 60 }),
);

function checkParse(text: string): void {
  const parsed = parseManifests(text, 'fuzz.yaml');
  if (!parsed) return;
  assertWellFormedErrors(parsed.errors, new Map([['fuzz.yaml', text]]));
  assertValidResources(parsed.resources);
}

test('property: no string makes parseManifests throw; errors carry file, message and an existing line', (t) => {
  fc.assert(fc.property(anyText, (text) => checkParse(text)), { numRuns: RUNS * 4 });
  t.pass();
});

test('property: no mutation of the samples makes parseManifests throw', (t) => {
  fc.assert(fc.property(mutatedSample, ({ text }) => checkParse(text)), { numRuns: RUNS * 2 });
  t.pass();
});

test('property: loadManifestSet over a mutated file never throws and never takes the last good policy away', (t) => {
  const good = loadManifestSet(SAMPLES);
  t.deepEqual(good.errors, [], 'the samples load cleanly');
  fc.assert(
    fc.property(mutatedSample, ({ sample, text }) => {
      const files = SAMPLES.map((f, i) => (i === sample ? { ...f, text } : f));
      const load = loadManifestSet(files, good.state);
      if (!load) return;
      assertWellFormedErrors(load.errors, new Map(files.map((f) => [f.file, f.text])));
      assertValidResources(load.resources.values());
      const file = SAMPLES[sample]!.file;
      const fileHasErrors = parseManifests(text, file).errors.length > 0;
      if (!fileHasErrors) return;
      // A bad save keeps every resource the file last defined well.
      const kept = load.state.get(file)!;
      for (const key of good.state.get(file)!.keys()) if (!kept.has(key)) throw new Error(`${key} was taken away by a bad save of ${file}`);
    }),
    { numRuns: RUNS * 2 },
  );
  t.pass();
});

// ---- (b) random values under a valid apiVersion/kind/metadata ----

/** A YAML tree whose leaves are raw scalar tokens, so numbers past 2^53 reach the parser unrounded. */
type Node = { scalar: string } | { seq: Node[] } | { map: [string, Node][] };

const SCALARS = [
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '18446744073709551616', '-1', '0', '1', '1.5', '-0.5',
  '1e3', '1e400', '.nan', '.inf', '-.inf', '0x1F', '0o17', '1_000', 'true', 'false', 'null', '~', '"NaN"', '"Infinity"', '"-1"', '"1e3"',
  '"__proto__"', '""', 'hard', 'soft', 'gauge', 'month', 'anchor', 'replace', 'add', '"2026-11-27T00:00:00Z"', '"64"', '"256Gi"', '"500m"', 'growth', 'acme',
];
const KEYS = [
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'polluted', 'features', 'quotas', 'rates', 'resources', 'extends',
  'displayName', 'limit', 'kind', 'window', 'reset', 'enforcement', 'alertAt', 'perSecond', 'burst', 'sku', 'addOns', 'quantity', 'suspended',
  'billingAnchor', 'overrides', 'namespaceSelector', 'matchLabels', 'tenant', 'tenantSelector', 'metric', 'mode', 'validFrom', 'validUntil',
  'api-calls', 'sso', 'requests', 'namespaces', 'requests.cpu', 'count/pods', 'a', '0', '',
];

const scalar: fc.Arbitrary<Node> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCALARS) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map((d) => (Number.isFinite(d) ? String(d) : JSON.stringify(String(d)))) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((s) => JSON.stringify(s)) },
).map((s) => (typeof s === 'string' ? { scalar: s } : s));

const { node } = fc.letrec<{ node: Node }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('node'), { maxLength: 4 }).map((seq): Node => ({ seq })),
    fc
      .uniqueArray(fc.tuple(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), tie('node')), { maxLength: 6, selector: ([k]) => k })
      .map((map): Node => ({ map })),
  ),
}));

const specNode: fc.Arbitrary<Node> = fc
  .uniqueArray(fc.tuple(fc.constantFrom(...KEYS), node), { maxLength: 8, selector: ([k]) => k })
  .map((map) => ({ map }));

function flow(n: Node): string {
  if ('scalar' in n) return n.scalar;
  if ('seq' in n) return `[${n.seq.map(flow).join(', ')}]`;
  return `{${n.map.map(([k, v]) => `${JSON.stringify(k)}: ${flow(v)}`).join(', ')}}`;
}

const isEmpty = (n: Node): boolean => 'scalar' in n || ('seq' in n ? n.seq.length === 0 : n.map.length === 0);

function block(n: Node, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if ('scalar' in n || isEmpty(n)) return [pad + flow(n)];
  if ('seq' in n) return n.seq.flatMap((v) => (isEmpty(v) ? [`${pad}- ${flow(v)}`] : [`${pad}-`, ...block(v, indent + 2)]));
  return n.map.flatMap(([k, v]) => (isEmpty(v) ? [`${pad}${JSON.stringify(k)}: ${flow(v)}`] : [`${pad}${JSON.stringify(k)}:`, ...block(v, indent + 2)]));
}

const mapNode = (entries: Record<string, Node | undefined>): Node => ({
  map: Object.entries(entries).filter((e): e is [string, Node] => e[1] !== undefined),
});
const opt = (a: fc.Arbitrary<Node>): fc.Arbitrary<Node | undefined> => fc.option(a, { nil: undefined });
const anyOf = (...values: string[]): fc.Arbitrary<Node> => fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...values).map((s) => ({ scalar: s })) }, scalar);
const keyed = (value: fc.Arbitrary<Node>): fc.Arbitrary<Node> =>
  fc.uniqueArray(fc.tuple(fc.constantFrom(...KEYS.slice(0, 8), 'api-calls', 'sso', 'seats', 'requests.cpu', 'namespaces'), value), { maxLength: 4, selector: ([k]) => k }).map((map) => ({ map }));
const quotaNode = fc
  .record({ limit: anyOf('0', '10', '9007199254740991'), kind: opt(anyOf('counter', 'gauge')), window: opt(anyOf('day', 'month')), enforcement: opt(anyOf('hard', 'soft')), alertAt: opt(anyOf('[70, 90]', '[100, 100]', '[0]', '[101]', '[]')) })
  .map(mapNode);

/** Specs shaped like each kind's, with random leaves: these yield valid resources often enough to check them. */
const shapedSpec: Record<'SKU' | 'Tenant' | 'Quota', fc.Arbitrary<Node>> = {
  SKU: fc.record({ extends: opt(anyOf('starter')), features: opt(keyed(anyOf('true', '50', 'business'))), quotas: opt(keyed(quotaNode)), resources: opt(keyed(anyOf('2', '"64"', '"8Gi"'))) }).map(mapNode),
  Tenant: fc
    .record({
      sku: anyOf('growth'),
      addOns: opt(fc.array(fc.record({ sku: anyOf('extra'), quantity: opt(anyOf('1', '2')) }).map(mapNode), { maxLength: 2 }).map((seq) => ({ seq }))),
      overrides: opt(fc.record({ features: opt(keyed(node)), quotas: opt(keyed(fc.oneof(node, quotaNode))) }).map(mapNode)),
      suspended: opt(anyOf('true', 'false')),
    })
    .map(mapNode),
  Quota: fc.record({ tenant: anyOf('acme'), metric: anyOf('api-calls'), limit: anyOf('5', '9007199254740991'), mode: opt(anyOf('add', 'replace')), validFrom: opt(anyOf('"2026-11-27T00:00:00Z"')) }).map(mapNode),
};

const resourceText = fc
  .constantFrom('SKU' as const, 'Tenant' as const, 'Quota' as const)
  .chain((kind) =>
    fc.record({
      kind: fc.constant(kind),
      name: fc.constantFrom('growth', 'acme', 'a.b-c', '"0"'),
      spec: fc.oneof(specNode, shapedSpec[kind]),
      style: fc.constantFrom('flow', 'block'),
      extraMeta: fc.oneof({ weight: 7, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: node }),
    }),
  )
  .map(({ kind, name, spec, style, extraMeta }) => {
    const head = [`apiVersion: ${API_VERSION}`, `kind: ${kind}`, 'metadata:', `  name: ${name}`];
    if (extraMeta) head.push(`  annotations: ${flow(extraMeta)}`);
    const body = style === 'flow' ? [`spec: ${flow(spec)}`] : isEmpty(spec) ? [`spec: ${flow(spec)}`] : ['spec:', ...block(spec, 2)];
    return [...head, ...body].join('\n') + '\n';
  });

/** Every object reachable from `value` has a standard prototype: nothing replaced it through `__proto__`. */
function assertPlainTree(value: unknown, path = '(root)'): void {
  if (typeof value !== 'object' || value === null) return;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== Array.prototype && proto !== null) throw new Error(`${path} has a foreign prototype`);
  for (const [k, v] of Object.entries(value)) assertPlainTree(v, `${path}.${k}`);
}

test('property: random values under a valid header never throw, never yield an invalid resource, never pollute', (t) => {
  const protoKeys = Object.getOwnPropertyNames(Object.prototype).sort();
  let resources = 0;
  fc.assert(
    fc.property(resourceText, (text) => {
      const parsed = parseManifests(text, 'fuzz.yaml');
      if (!parsed) return;
      assertWellFormedErrors(parsed.errors, new Map([['fuzz.yaml', text]]));
      assertValidResources(parsed.resources);
      resources += parsed.resources.length;
      for (const r of parsed.resources) assertPlainTree(r.resource);
      if (Object.getOwnPropertyNames(Object.prototype).sort().join() !== protoKeys.join()) throw new Error('Object.prototype gained a property');
      if (({} as Record<string, unknown>).polluted !== undefined) throw new Error('Object.prototype.polluted is set');
    }),
    { numRuns: RUNS * 4 },
  );
  t.log(`valid resources produced: ${resources}`);
  t.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoKeys);
});

// ---- (c) regression vectors ----

const header = (kind: string, name = 'growth'): string => `apiVersion: ${API_VERSION}\nkind: ${kind}\nmetadata:\n  name: ${name}\n`;

test('a number past 2^53 is an error naming its path and line, not a rounded limit', (t) => {
  const text = `${header('SKU')}spec:\n  quotas:\n    api-calls:\n      limit: 9007199254740993\n`;
  const { resources, errors } = parseManifests(text, 'skus.yaml');
  t.deepEqual(resources, []);
  t.like(errors, [{ file: 'skus.yaml', line: 8, path: 'spec.quotas.api-calls.limit' }]);
  t.regex(errors[0]!.message, /9007199254740993.*2\^53-1/);
});

test('2^53-1 itself is accepted exactly', (t) => {
  const { resources, errors } = parseManifests(`${header('SKU')}spec:\n  quotas:\n    api-calls: { limit: 9007199254740991 }\n`, 'skus.yaml');
  t.deepEqual(errors, []);
  t.is((resources[0]!.resource.spec as { quotas: Record<string, { limit: number }> }).quotas['api-calls']!.limit, Number.MAX_SAFE_INTEGER);
});

for (const [what, limit] of [['negative', '-1'], ['fractional', '1.5']] as const) {
  test(`a ${what} limit names spec.quotas.<metric>.limit and its line`, (t) => {
    const text = `${header('SKU')}spec:\n  quotas:\n    builds:\n      limit: ${limit}\n`;
    const { resources, errors } = parseManifests(text, 'skus.yaml');
    t.deepEqual(resources, []);
    t.like(errors, [{ file: 'skus.yaml', line: 8, path: 'spec.quotas.builds.limit', resource: 'SKU/growth' }]);
    t.true(errors[0]!.message.includes(limit));
  });
}

test('an unknown kind or apiVersion is an error on `kind`, and yields nothing', (t) => {
  for (const text of [header('Plan'), `apiVersion: tai.dev/v1\nkind: SKU\nmetadata: { name: a }\nspec: {}\n`, header('__proto__')]) {
    const { resources, errors } = parseManifests(text, 'x.yaml');
    t.deepEqual(resources, []);
    t.like(errors, [{ file: 'x.yaml', line: 1, path: 'kind' }]);
    t.regex(errors[0]!.message, /unknown kind/);
  }
});

test('a resource defined in two files is an error on the second, naming the first', (t) => {
  const doc = `${header('Tenant', 'acme')}spec:\n  sku: growth\n`;
  const load = loadManifestSet([
    { file: 'b.yaml', text: `# second\n---\n${doc}` },
    { file: 'a.yaml', text: doc },
  ]);
  t.is(load.resources.get('Tenant/acme')!.source.file, 'a.yaml');
  t.like(load.errors, [{ file: 'b.yaml', line: 3, path: 'metadata.name', resource: 'Tenant/acme' }]);
  t.regex(load.errors[0]!.message, /already defined at a\.yaml:1/);
});

test('malformed YAML gives the line it is on', (t) => {
  const cases: [string, number][] = [
    [`${header('SKU')}spec:\n  features: { sso: true\n`, 7],
    [`${header('SKU')}spec:\n  quotas:\n    a: 1\n    a: 2\n`, 8],
    [`${header('SKU')}spec:\n\tfeatures: {}\n`, 6],
    ['a: b: c\n', 1],
  ];
  for (const [text, line] of cases) {
    const { resources, errors } = parseManifests(text, 'bad.yaml');
    t.deepEqual(resources, []);
    t.true(errors.length > 0, text);
    t.is(errors[0]!.file, 'bad.yaml');
    t.is(errors[0]!.line, line, text);
  }
});

test('a valid document after a broken one in the same file still loads; the broken one yields nothing', (t) => {
  const text = `${header('SKU', 'bad')}spec: { quotas: { x: { limit: -1 } } }\n---\n${header('SKU', 'good')}spec: {}\n`;
  const { resources, errors } = parseManifests(text, 'skus.yaml');
  t.deepEqual(resources.map((r) => resourceKey(r.resource)), ['SKU/good']);
  t.like(errors, [{ path: 'spec.quotas.x.limit', resource: 'SKU/bad' }]);
});

// Regressions: what Document.toJS throws is an error with a line, never an exception.
const crashers: [string, string][] = [
  ['an unresolved alias', 'a: *foo\n'],
  ['an alias bomb', 'a: &a [1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n'],
  ['a YAML 1.1 merge of a scalar', '%YAML 1.1\n---\n<<: 5\n'],
];
for (const [what, text] of crashers) {
  test(`${what} is an error with a line, not an exception`, (t) => {
    const { resources, errors } = parseManifests(text, 'bad.yaml');
    t.deepEqual(resources, []);
    t.like(errors, [{ file: 'bad.yaml' }]);
    t.true(errors[0]!.line !== undefined && errors[0]!.line >= 1);
  });
}

// zod drops `__proto__` keys silently, so toSafeNumbers reports them before validation.
test('a __proto__ feature key is an error naming it, not silently dropped', (t) => {
  const { errors } = parseManifests(`${header('SKU')}spec:\n  features: { __proto__: true, sso: true }\n`, 'skus.yaml');
  t.like(errors, [{ path: 'spec.features.__proto__' }]);
});
