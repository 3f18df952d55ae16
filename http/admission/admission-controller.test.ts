import test from 'ava';
import { skuOf, tenantOf } from '../../governor/policy-fixtures.test-helper.ts';
import { admissionOver, namespace, pod, pvc, requestFor, service } from './admission.test-helper.ts';

test('a tenant namespace is admitted up to the namespaces cap; the next names tenant, cap and usage', (t) => {
  const { controller, deliver } = admissionOver();
  const first = controller.decide(requestFor('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' })));
  t.like(first, { allowed: true, tenant: 'acme', reserved: true });
  // The second is counted against the reservation of the first, before the watch delivers it.
  t.like(controller.decide(requestFor('namespaces', namespace('acme-b', { 'tai.dev/tenant': 'acme' }))), { allowed: true });
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  const third = controller.decide(requestFor('namespaces', namespace('acme-c', { 'tai.dev/tenant': 'acme' })));
  t.like(third, { allowed: false, reason: 'ResourceCapExceeded', cap: { resource: 'namespaces', limit: '2', used: '2', requested: '1' } });
  t.is(third.message, 'tenant "acme": namespaces cap is 2 and 2 is in use across its namespaces; namespace acme-c needs 1 more');
});

test('namespaces that belong to no tenant are not governed; one labelled for a missing tenant is refused', (t) => {
  const { controller } = admissionOver();
  t.like(controller.decide(requestFor('namespaces', namespace('team-x', {}))), { allowed: true, tenant: undefined, reserved: false });
  const ghost = controller.decide(requestFor('namespaces', namespace('ghost-a', { 'tai.dev/tenant': 'ghost' })));
  t.like(ghost, { allowed: false, reason: 'UnknownTenant' });
  t.regex(ghost.message!, /no Tenant "ghost"/);
});

test('a tenant with its own namespaceSelector owns the namespaces it selects, not those labelled with its name', (t) => {
  const { controller, deliver } = admissionOver();
  t.like(controller.decide(requestFor('namespaces', namespace('si-1', { customer: 'stark-industries' }))), { allowed: true, tenant: 'stark' });
  t.like(controller.decide(requestFor('namespaces', namespace('stark-x', { 'tai.dev/tenant': 'stark' }))), { allowed: true, tenant: undefined });
  deliver('namespaces', namespace('si-1', { customer: 'stark-industries' }));
  t.like(controller.decide(requestFor('pods', pod('si-1', 'web'))), { allowed: true, tenant: 'stark', reserved: true });
});

test('a suspended tenant is refused every create and update with TenantSuspended, and may still delete', (t) => {
  const { controller, deliver } = admissionOver();
  const ns = controller.decide(requestFor('namespaces', namespace('umb-a', { 'tai.dev/tenant': 'umbrella' })));
  t.like(ns, { allowed: false, reason: 'TenantSuspended' });
  t.regex(ns.message!, /tenant "umbrella" is suspended: namespace umb-a is refused; set spec.suspended: false/);
  deliver('namespaces', namespace('umb-old', { 'tai.dev/tenant': 'umbrella' }));
  t.like(controller.decide(requestFor('pods', pod('umb-old', 'p'))), { allowed: false, reason: 'TenantSuspended' });
  const cm = { ...requestFor('configmaps', { metadata: { name: 'c', namespace: 'umb-old' } }), kind: { group: '', version: 'v1', kind: 'ConfigMap' } };
  t.like(controller.decide(cm), { allowed: false, reason: 'TenantSuspended' });
  t.like(controller.decide(requestFor('pods', pod('umb-old', 'p'), { operation: 'DELETE' })), { allowed: true });
  const deleting = pod('umb-old', 'p') as Record<string, unknown> & { metadata: Record<string, unknown> };
  deleting.metadata.deletionTimestamp = '2026-11-23T00:00:00Z';
  t.like(controller.decide(requestFor('pods', deleting, { operation: 'UPDATE', oldObject: pod('umb-old', 'p') })), { allowed: true });
});

test('30 concurrent Pod reviews against a cap of 10 admit exactly 10; the watch confirming them changes nothing', (t) => {
  const { controller, deliver, reservations } = admissionOver();
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  deliver('namespaces', namespace('acme-b', { 'tai.dev/tenant': 'acme' }));
  const pods = Array.from({ length: 30 }, (_, i) => pod(i % 2 ? 'acme-a' : 'acme-b', `p${i}`, '10m', '1Mi'));
  const answers = pods.map((p) => controller.decide(requestFor('pods', p)));
  t.is(answers.filter((a) => a.allowed).length, 10);
  t.true(answers.filter((a) => !a.allowed).every((a) => a.reason === 'ResourceCapExceeded' && a.cap?.resource === 'count/pods'));
  t.is(reservations.size, 10);
  pods.forEach((p, i) => answers[i]!.allowed && deliver('pods', p));
  t.is(reservations.size, 0);
  t.like(controller.decide(requestFor('pods', pod('acme-a', 'one-more', '10m', '1Mi'))), { allowed: false, cap: { used: '10' } });
});

test('requests are summed across the tenant namespaces, in exact milli-units', (t) => {
  const { controller, deliver } = admissionOver([skuOf('cpu-only', { resources: { 'requests.cpu': '2' } }), tenantOf('acme', { sku: 'cpu-only' })]);
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  deliver('namespaces', namespace('acme-b', { 'tai.dev/tenant': 'acme' }));
  // 19 × 100m = 1900m: floating cores would drift (0.1 + 0.2 ≠ 0.3); milli-units do not.
  for (let i = 0; i < 19; i++) deliver('pods', pod(i % 2 ? 'acme-a' : 'acme-b', `p${i}`, '100m', '1Mi'));
  t.like(controller.decide(requestFor('pods', pod('acme-a', 'fits', '100m', '1Mi'))), { allowed: true });
  const over = controller.decide(requestFor('pods', pod('acme-b', 'over', '1m', '1Mi')));
  t.like(over, { allowed: false, cap: { resource: 'requests.cpu', limit: '2', used: '2', requested: '1m' } });
});

test('a Pod counts its effective requests: sidecars add, init containers peak, overhead adds', (t) => {
  const { controller, deliver } = admissionOver([skuOf('mem', { resources: { 'requests.memory': '1Gi' } }), tenantOf('acme', { sku: 'mem' })]);
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  const mem = (m: string) => ({ resources: { requests: { memory: m } } });
  const spec = {
    containers: [{ name: 'a', ...mem('256Mi') }, { name: 'b', ...mem('256Mi') }],
    initContainers: [{ name: 'migrate', ...mem('768Mi') }, { name: 'proxy', restartPolicy: 'Always', ...mem('128Mi') }],
    overhead: { memory: '64Mi' },
  };
  // max(256 + 256 + 128, 768) + 64 = 832Mi of 1Gi; a second copy would pass it.
  t.true(controller.decide(requestFor('pods', { metadata: { name: 'one', namespace: 'acme-a' }, spec })).allowed);
  t.like(controller.decide(requestFor('pods', { metadata: { name: 'two', namespace: 'acme-a' }, spec })), { allowed: false, cap: { used: '832Mi', requested: '832Mi' } });
});

test('a dry run is answered but reserves nothing', (t) => {
  const { controller, reservations, deliver } = admissionOver();
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  for (let i = 0; i < 20; i++) t.like(controller.decide(requestFor('pods', pod('acme-a', `p${i}`, '1m', '1Mi'), { dryRun: true })), { allowed: true, reserved: false });
  t.is(reservations.size, 0);
});

test('a reservation the watch never confirms expires, and its capacity returns', (t) => {
  const { controller, deliver, clock } = admissionOver();
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  for (let i = 0; i < 10; i++) t.true(controller.decide(requestFor('pods', pod('acme-a', `p${i}`, '1m', '1Mi'))).allowed);
  t.false(controller.decide(requestFor('pods', pod('acme-a', 'x', '1m', '1Mi'))).allowed);
  clock.now += 30_000;
  t.true(controller.decide(requestFor('pods', pod('acme-a', 'x', '1m', '1Mi'))).allowed);
});

test('an update is judged on what it adds: a Service turned LoadBalancer, a PVC grown', (t) => {
  const { controller, deliver } = admissionOver();
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  deliver('namespaces', namespace('hooli-a', { 'tai.dev/tenant': 'hooli' }));
  const before = service('acme-a', 'web');
  deliver('services', before);
  t.like(controller.decide(requestFor('services', service('acme-a', 'web'), { operation: 'UPDATE', oldObject: before })), { allowed: true, reserved: false });
  t.like(controller.decide(requestFor('services', service('acme-a', 'web', 'LoadBalancer'), { operation: 'UPDATE', oldObject: before })), {
    allowed: false,
    cap: { resource: 'services.loadbalancers', limit: '0', used: '0', requested: '1' },
  });
  t.like(controller.decide(requestFor('services', service('hooli-a', 'lb1', 'LoadBalancer'))), { allowed: true });
  t.like(controller.decide(requestFor('services', service('hooli-a', 'lb2', 'LoadBalancer'))), { allowed: false, cap: { used: '1' } });
  const claim = pvc('acme-a', 'data', '8Gi');
  deliver('persistentvolumeclaims', claim);
  const grown = controller.decide(requestFor('persistentvolumeclaims', pvc('acme-a', 'data', '12Gi'), { operation: 'UPDATE', oldObject: claim }));
  t.like(grown, { allowed: false, cap: { resource: 'requests.storage', limit: '10Gi', used: '8Gi', requested: '4Gi' } });
});

test('a Pod created right after its namespace is placed in the tenant before the watch delivers the namespace', (t) => {
  const { controller } = admissionOver();
  t.true(controller.decide(requestFor('namespaces', namespace('acme-new', { 'tai.dev/tenant': 'acme' }))).allowed);
  t.like(controller.decide(requestFor('pods', pod('acme-new', 'early'))), { allowed: true, tenant: 'acme', reserved: true });
});

test('Deployments are admitted with warnings when their Pods at full scale would pass a cap', (t) => {
  const { controller, deliver } = admissionOver();
  deliver('namespaces', namespace('acme-a', { 'tai.dev/tenant': 'acme' }));
  const deployment = (replicas: number) => ({
    metadata: { name: 'web', namespace: 'acme-a' },
    spec: { replicas, template: { spec: { containers: [{ name: 'c', resources: { requests: { cpu: '500m', memory: '64Mi' } } }] } } },
  });
  const review = (replicas: number, old?: object) =>
    controller.decide({
      ...requestFor('deployments', deployment(replicas), old ? { operation: 'UPDATE', oldObject: old as Record<string, unknown> } : {}),
      kind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
    });
  t.deepEqual(review(4).warnings, []);
  const big = review(12);
  t.true(big.allowed);
  t.deepEqual(big.warnings, [
    'tenant "acme": web would add 12 count/pods at full scale, past its cap of 10 (0 in use); Pods past the cap will be refused',
    'tenant "acme": web would add 6 requests.cpu at full scale, past its cap of 2 (0 in use); Pods past the cap will be refused',
  ]);
  t.deepEqual(review(5, deployment(4)).warnings, []);
});

test('TAI kinds: a Tenant naming a missing SKU, an SKU cycle and an invalid spec are refused with the field', (t) => {
  const { controller } = admissionOver();
  const tai = (resource: string, object: object) =>
    controller.decide({ ...requestFor(resource, object as Record<string, unknown>), kind: { group: 'tai.dev', version: 'v1alpha1', kind: 'X' }, resource: { group: 'tai.dev', version: 'v1alpha1', resource } });
  const missing = tai('tenants', tenantOf('initech', { sku: 'platinum' }));
  t.like(missing, { allowed: false, reason: 'SKUNotFound' });
  t.is(missing.message, 'Tenant/initech: spec.sku: SKU "platinum" does not exist; apply the SKU first or fix the name');
  t.like(tai('tenants', tenantOf('initech', { sku: 'big', addOns: [{ sku: 'nope', quantity: 1 }] })), { allowed: false, message: 'Tenant/initech: spec.addOns[0].sku: SKU "nope" does not exist; apply the SKU first or fix the name' });
  t.like(tai('tenants', tenantOf('initech', { sku: 'big' })), { allowed: true });
  const cycle = tai('skus', skuOf('small', { extends: 'big' }));
  t.like(cycle, { allowed: false, reason: 'InheritanceCycle' });
  t.regex(cycle.message!, /small → big → small/);
  const invalid = tai('skus', { ...skuOf('weird', {}), spec: { quotas: { calls: { limit: -1 } } } });
  t.like(invalid, { allowed: false, reason: 'InvalidSpec' });
  t.regex(invalid.message!, /spec\.quotas\.calls\.limit/);
});

test('read-your-writes: a Tenant on an SKU admitted moments ago waits for the watch to deliver it', async (t) => {
  const { controller, compiler } = admissionOver();
  const tai = (resource: string, kind: string, object: object) =>
    ({ ...requestFor(resource, object as Record<string, unknown>), kind: { group: 'tai.dev', version: 'v1alpha1', kind }, resource: { group: 'tai.dev', version: 'v1alpha1', resource } });
  t.like(controller.decide(tai('skus', 'SKU', skuOf('fresh', {}))), { allowed: true });
  setTimeout(() => compiler.apply({ upsert: [skuOf('fresh', {})] }, 0), 30);
  t.like(await controller.review(tai('tenants', 'Tenant', tenantOf('newco', { sku: 'fresh' }))), { allowed: true });
  // Never admitted here: no wait, refused at once.
  t.like(await controller.review(tai('tenants', 'Tenant', tenantOf('newco', { sku: 'unknown' }))), { allowed: false, reason: 'SKUNotFound' });
});
