// Issue 15, defect 9: a large policy file is parsed in slices (the event loop gets a turn between them) with the
// same resources, errors and line numbers as the whole parse.
import test from 'ava';
import { stringify } from 'yaml';
import { formatPolicyError } from './manifests.ts';
import { loadManifestSet } from './manifest-set.ts';
import { loadManifestSetInSlices, parseManifestsInSlices } from './manifest-slices.ts';

const tenant = (i: number): string => stringify({ apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: `t-${i}`, labels: { n: String(i) } }, spec: { sku: 'starter', overrides: { features: { projects: i } } } });

/** 300 tenants, with a schema error, a YAML error, a duplicate across slices and a block scalar on the way. */
function bigFile(): string {
  const docs = Array.from({ length: 300 }, (_, i) => tenant(i));
  docs[57] = docs[57]!.replace('sku: starter', 'sku: 42');
  docs[123] = 'apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata: { name: broken\nspec: {}\n';
  docs[250] = tenant(3);
  docs[260] = docs[260]!.replace('metadata:', 'metadata:\n  annotations:\n    note: |\n      a block scalar\n      --- not a marker, indented\n');
  return `# a comment before the first document\n${docs.join('---\n')}`;
}

const summary = (load: ReturnType<typeof loadManifestSet>) => ({
  resources: [...load.resources].map(([k, r]) => [k, r.source.line, r.lineOf?.('spec.overrides.features.projects')]),
  errors: load.errors.map(formatPolicyError).sort(),
});

test('the sliced load equals the whole one: resources, lines of fields, errors', async (t) => {
  const files = [{ file: 'tenants.yaml', text: bigFile() }, { file: 'a.yaml', text: tenant(1000) }];
  let pauses = 0;
  const sliced = await loadManifestSetInSlices(files, new Map(), async () => void pauses++);
  const whole = loadManifestSet(files);
  t.deepEqual(summary(sliced), summary(whole));
  t.true(whole.errors.length >= 3, whole.errors.map(formatPolicyError).join('\n'));
  t.true(pauses >= 7, `${pauses} pauses`);
});

test('a file with a directive, or with few documents, is parsed whole', async (t) => {
  let pauses = 0;
  const pause = async (): Promise<void> => void pauses++;
  await parseManifestsInSlices(`%YAML 1.2\n---\n${Array.from({ length: 100 }, (_, i) => tenant(i)).join('---\n')}`, 'd.yaml', pause);
  await parseManifestsInSlices(tenant(1), 'one.yaml', pause);
  t.is(pauses, 0);
});

test('property: for any sequence of documents, markers and comments, the sliced parse equals the whole one', async (t) => {
  const fc = (await import('fast-check')).default;
  const doc = fc.oneof(
    fc.integer({ min: 0, max: 30 }).map((i) => tenant(i)),
    fc.constant('apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata: { name: broken\n'),
    fc.constant('# only a comment\n'),
    fc.constant(''),
    fc.constant('kind: Tenant\nmetadata:\n  name: t-1\nspec:\n  sku: |\n    multi\n    line\n'),
    fc.constant('[1, 2'),
  );
  const marker = fc.constantFrom('---\n', '--- \n', '--- # note\n', '---\r\n');
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(marker, doc), { minLength: 1, maxLength: 120 }), async (parts) => {
      const text = parts.map(([m, d], i) => (i === 0 ? d : `${m}${d}`)).join('');
      const files = [{ file: 'f.yaml', text }];
      t.deepEqual(summary(await loadManifestSetInSlices(files, new Map(), async () => undefined)), summary(loadManifestSet(files)));
    }),
    { numRuns: 60 },
  );
});
