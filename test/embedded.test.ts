// End to end: the real `tai serve --from DIR` process and its hot reload, over HTTP.
import test from 'ava';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, post, startServe, type Served } from './support/served.ts';

async function serveSamples(...args: string[]): Promise<Served & { dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-embedded-'));
  await cp('config/samples', dir, { recursive: true });
  return { ...(await startServe(['--from', dir, '--listen', '127.0.0.1:0', '--log', join(dir, '.log'), '--key', join(dir, '.key'), ...args])), dir };
}

async function edit(dir: string, file: string, change: (s: string) => string): Promise<void> {
  const path = join(dir, file);
  await writeFile(path, change(await readFile(path, 'utf8')));
}

test.serial('serves the samples, enforces a saved edit, and keeps the last good state through a broken file', async (t) => {
  const s = await serveSamples();
  t.teardown(() => s.child.kill('SIGTERM'));

  t.like(await (await fetch(`${s.url}/readyz`)).json(), { ready: true, tenants: 6, problems: 0 });
  t.like(await post(`${s.url}/v1/check`, { tenant: 'initech', feature: 'audit-log' }), { allowed: true, value: true });
  t.like(await post(`${s.url}/v1/check`, { tenant: 'umbrella', feature: 'sso' }), { allowed: false, reason: 'TenantSuspended' });
  t.like(await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 5 }), { allowed: true, used: 5, limit: 5 });
  t.like(await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 1 }), { allowed: false, reason: 'QuotaExceeded' });

  // Raise the starter seat limit: the next decision must see it, and the usage already counted survives.
  await edit(s.dir, 'skus.yaml', (y) => y.replace('seats: { limit: 5, kind: gauge }', 'seats: { limit: 6, kind: gauge }'));
  t.true(await eventually(async () => (await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 0 })).limit === 6));
  t.like(await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 1 }), { allowed: true, used: 6, limit: 6 });

  // A broken save: reported with file, line and field; the last good state keeps serving.
  await edit(s.dir, 'skus.yaml', (y) => y.replace('seats: { limit: 6, kind: gauge }', 'seats: { limit: 1.5, kind: gauge }'));
  t.true(await eventually(async () => ((await (await fetch(`${s.url}/readyz`)).json()) as { problems: number }).problems > 0));
  t.true(s.stderr.some((l) => /skus\.yaml:\d+: spec\.quotas\.seats\.limit: must be a whole number/.test(l)), s.stderr.join('\n'));
  t.like(await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 0 }), { limit: 6 });

  // Fixing it recovers.
  await edit(s.dir, 'skus.yaml', (y) => y.replace('seats: { limit: 1.5, kind: gauge }', 'seats: { limit: 7, kind: gauge }'));
  t.true(await eventually(async () => (await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 0 })).limit === 7));
  t.like(await (await fetch(`${s.url}/readyz`)).json(), { problems: 0 });
});

test.serial('a new tenant file is picked up and a deleted tenant becomes unknown', async (t) => {
  const s = await serveSamples();
  t.teardown(() => s.child.kill('SIGTERM'));
  await writeFile(join(s.dir, 'wayne.yaml'), 'apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata: { name: wayne }\nspec: { sku: enterprise }\n');
  t.true(await eventually(async () => (await post(`${s.url}/v1/check`, { tenant: 'wayne', feature: 'audit-log' })).allowed === true));
  await edit(s.dir, 'wayne.yaml', () => '');
  t.true(await eventually(async () => (await post(`${s.url}/v1/check`, { tenant: 'wayne', feature: 'audit-log' })).reason === 'UnknownTenant'));
});

test.serial('SIGTERM stops the server with status 0', async (t) => {
  const s = await serveSamples();
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGTERM');
  t.is(await exited, 0);
});

test.serial('--log-format json: every line is JSON with Cloud Logging severity, failed requests included', async (t) => {
  const s = await serveSamples('--log-format', 'json');
  const bad = await fetch(`${s.url}/v1/check`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tenant":' });
  t.is(bad.status, 400);
  const requestId = bad.headers.get('x-request-id');
  s.child.kill('SIGTERM');
  await s.exited;
  const lines = s.stdout.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.true(lines.some((l) => l.severity === 'INFO' && /serving decisions on http:\/\/127\.0\.0\.1:\d+/.test(String(l.message))));
  const logged = lines.find((l) => l.requestId === requestId);
  t.like(logged, { severity: 'WARNING', httpRequest: { requestMethod: 'POST', status: 400 } });
});
