import test from 'ava';
import { parseApiObject } from './api-object.ts';
import { formatPolicyError, parseManifests } from './manifests.ts';

// Issue 15, defect 4: a YAML "\ud800" escape reaches a reconcile receipt (feature values are recorded in its
// patch), which cannot encode it. Such text is refused where policy enters, with file, line and field path.
const YAML = `apiVersion: tai.dev/v1alpha1
kind: SKU
metadata: { name: gold }
spec:
  features:
    support: "gold\\ud800"
    "k\\udc00": true
`;

test('a lone surrogate in a YAML string or key is an error naming its line and field path, and yields no resource', (t) => {
  const { resources, errors } = parseManifests(YAML, 'gold.yaml');
  t.deepEqual(resources, []);
  t.deepEqual(errors.map(formatPolicyError), [
    'gold.yaml:6: spec.features.support: text has a lone UTF-16 surrogate (half of a pair, e.g. the escape "\\ud800"), which is not Unicode and cannot be recorded: write the whole character',
    'gold.yaml:7: spec.features.k\\udc00: key text has a lone UTF-16 surrogate (half of a pair, e.g. the escape "\\ud800"), which is not Unicode and cannot be recorded: write the whole character',
  ]);
  for (const e of errors) t.true(formatPolicyError(e).isWellFormed());
});

test('a well-formed pair (an emoji) is accepted', (t) => {
  const { resources, errors } = parseManifests(YAML.replace('gold\\ud800', 'gold\\ud83d\\ude00').replace('"k\\udc00"', 'k'), 'gold.yaml');
  t.deepEqual(errors, []);
  t.is(resources.length, 1);
});

test('an object from the API server with a lone surrogate in a label is refused, its errors well-formed', (t) => {
  const parsed = parseApiObject({ apiVersion: 'tai.dev/v1alpha1', kind: 'Tenant', metadata: { name: 'acme', labels: { team: '\ud800' } }, spec: { sku: 'gold' } });
  t.true('errors' in parsed);
  const errors = 'errors' in parsed ? parsed.errors : [];
  t.deepEqual(errors.map((e) => e.path), ['metadata.labels.team']);
  for (const e of errors) t.true(formatPolicyError(e).isWellFormed());
});
