import test from 'ava';
import { decideCheck } from './decide-check.ts';
import { tenant } from './fixtures.test-helper.ts';

const acme = tenant();

test('an entitled feature is allowed with its value and the policy digest', (t) => {
  t.deepEqual(decideCheck(acme, { tenant: 'acme', feature: 'sso' }), {
    op: 'check',
    tenant: 'acme',
    feature: 'sso',
    policy: 'd1gest-acme',
    allowed: true,
    reason: 'Allowed',
    value: true,
  });
});

test('absent and false features are FeatureNotEntitled', (t) => {
  const absent = decideCheck(acme, { tenant: 'acme', feature: 'sandbox' });
  t.is(absent.reason, 'FeatureNotEntitled');
  t.false(absent.allowed);
  t.false('value' in absent);
  const off = decideCheck(acme, { tenant: 'acme', feature: 'audit' });
  t.deepEqual([off.allowed, off.reason, off.value], [false, 'FeatureNotEntitled', false]);
});

test('numeric 0 and the empty string are values, allowed', (t) => {
  const zero = decideCheck(acme, { tenant: 'acme', feature: 'max-projects' });
  t.deepEqual([zero.allowed, zero.reason, zero.value], [true, 'Allowed', 0]);
  const empty = decideCheck(acme, { tenant: 'acme', feature: 'support' });
  t.deepEqual([empty.allowed, empty.reason, empty.value], [true, 'Allowed', '']);
});

test('unknown and suspended tenants are denied', (t) => {
  t.deepEqual(decideCheck(undefined, { tenant: 'ghost', feature: 'sso' }), {
    op: 'check',
    tenant: 'ghost',
    feature: 'sso',
    allowed: false,
    reason: 'UnknownTenant',
  });
  const suspended = decideCheck(tenant({ suspended: true }), { tenant: 'acme', feature: 'sso' });
  t.deepEqual([suspended.allowed, suspended.reason, suspended.value], [false, 'TenantSuspended', undefined]);
});

test('Object.prototype members are not features', (t) => {
  for (const feature of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    t.is(decideCheck(acme, { tenant: 'acme', feature }).reason, 'FeatureNotEntitled', feature);
  }
});
