import test from 'ava';
import type { PolicyError } from '../crds/index.ts';
import type { ResourceStatus } from '../governor/index.ts';
import { readyCondition } from './ready.ts';

const compiled = (over: Partial<ResourceStatus> = {}): ResourceStatus => ({ ready: true, reason: 'Compiled', message: 'compiled into the governor', generation: 2, ...over });
const error = (path: string, message: string): PolicyError => ({ file: 'cluster', path, message });

test('a compiled resource at its current generation is Ready True with the compiler reason and message', (t) => {
  t.deepEqual(readyCondition({ generation: 2, compiled: compiled(), invalid: undefined }), {
    type: 'Ready',
    status: 'True',
    reason: 'Compiled',
    message: 'compiled into the governor',
  });
});

test('a Ready True without a message says it is compiled and enforced', (t) => {
  t.is(readyCondition({ generation: 2, compiled: compiled({ message: '' }), invalid: undefined })?.message, 'compiled and enforced');
});

test('nothing is decided before the compiler has seen the resource', (t) => {
  t.is(readyCondition({ generation: 1, compiled: undefined, invalid: undefined }), undefined);
});

test('nothing is decided while the compiler holds an older generation', (t) => {
  t.is(readyCondition({ generation: 3, compiled: compiled({ generation: 2 }), invalid: undefined }), undefined);
});

test('a compile failure is Ready False with its reason, the message prefixed by the field path', (t) => {
  const c = compiled({ ready: false, reason: 'SKUNotFound', path: 'spec.sku', message: 'SKU "gold" not found' });
  t.deepEqual(readyCondition({ generation: 2, compiled: c, invalid: undefined }), {
    type: 'Ready',
    status: 'False',
    reason: 'SKUNotFound',
    message: 'spec.sku: SKU "gold" not found',
  });
});

test('a failure message that already starts with its path is not prefixed twice', (t) => {
  const c = compiled({ ready: false, reason: 'InheritanceCycle', path: 'spec.extends', message: 'spec.extends names a cycle' });
  t.is(readyCondition({ generation: 2, compiled: c, invalid: undefined })?.message, 'spec.extends names a cycle');
});

test('a failure without a path keeps its message as is', (t) => {
  const c = compiled({ ready: false, reason: 'UnknownMetric', message: 'no such metric' });
  t.is(readyCondition({ generation: 2, compiled: c, invalid: undefined })?.message, 'no such metric');
});

test('schema errors win over the compiler and say the last valid version keeps serving', (t) => {
  const ready = readyCondition({
    generation: 5,
    compiled: compiled({ generation: 4 }),
    invalid: [error('spec.quotas.api-calls.limit', 'must be a whole number'), error('', 'unknown field')],
  });
  t.deepEqual(ready, {
    type: 'Ready',
    status: 'False',
    reason: 'InvalidSpec',
    message: 'spec.quotas.api-calls.limit: must be a whole number; unknown field — the last valid version keeps serving',
  });
});

test('an empty list of schema errors falls through to the compiler verdict', (t) => {
  t.is(readyCondition({ generation: 2, compiled: compiled(), invalid: [] })?.status, 'True');
});
