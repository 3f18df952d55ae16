// End to end: the real `tai serve --from DIR` process and its hot reload, over HTTP.
import test from 'ava';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKubeletVolume, type VolumePayload } from './support/kubelet-volume.ts';
import { eventually, getJson, post, startServe, stopServe, type Served } from './support/served.ts';

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

/** config/samples as a ConfigMap's data, with the starter SKU's seat limit set to `seats`. */
async function samplesPayload(seats: number): Promise<VolumePayload> {
  const payload: Record<string, string> = {};
  for (const name of await readdir('config/samples')) payload[name] = await readFile(join('config/samples', name), 'utf8');
  payload['skus.yaml'] = payload['skus.yaml']!.replace('seats: { limit: 5, kind: gauge }', `seats: { limit: ${seats}, kind: gauge }`);
  return payload;
}

test.serial('a Kubernetes ConfigMap volume: every resource is read once, and each ..data swap kubelet makes is enforced', async (t) => {
  const mount = await mkdtemp(join(tmpdir(), 'tai-configmap-'));
  const state = await mkdtemp(join(tmpdir(), 'tai-configmap-state-'));
  await writeKubeletVolume(mount, await samplesPayload(5));
  const s = await startServe(['--from', mount, '--listen', '127.0.0.1:0', '--log', join(state, 'log'), '--key', join(state, 'key')]);
  t.teardown(async () => {
    await stopServe(s);
    await rm(mount, { recursive: true, force: true });
    await rm(state, { recursive: true, force: true });
  });
  const seatLimit = async (): Promise<unknown> => (await post(`${s.url}/v1/consume`, { tenant: 'globex', metric: 'seats', amount: 0 })).limit;

  t.like(await getJson(`${s.url}/readyz`), { ready: true, tenants: 6, problems: 0 });
  t.true(s.stdout.some((l) => /policy generation 1: 4 SKUs, 6 tenants, 2 quotas \(12 changed\)/.test(l)), s.stdout.join('\n'));
  t.deepEqual(s.stderr, [], 'no resource is defined twice (through ..data, the payload directory and the top-level symlink)');
  t.is(await seatLimit(), 5);

  // Two updates: after the first, the rename of ..data is the only event an update raises for the visible files.
  // Each must be enforced as of the swap, not as a side effect of kubelet removing the old payload afterwards.
  for (const seats of [9, 11]) {
    const { generation } = await getJson(`${s.url}/readyz`);
    await writeKubeletVolume(mount, await samplesPayload(seats), {
      payloadWritten: async () => {
        await new Promise((r) => setTimeout(r, 300)); // kubelet pausing between the payload and the swap
        t.like(await getJson(`${s.url}/readyz`), { generation }, 'the next payload, not yet swapped in, is no change');
      },
      swapped: async () => void t.true(await eventually(async () => (await seatLimit()) === seats), `update to ${seats} seats`),
    });
  }
  t.like(await getJson(`${s.url}/readyz`), { problems: 0 });
  t.deepEqual(s.stderr, []);
});

test.serial('--poll-interval is in effect in embedded mode', async (t) => {
  const s = await serveSamples('--poll-interval', '1');
  t.teardown(() => stopServe(s));
  t.true(s.stdout.some((l) => /serving decisions on .*watching for changes and re-reading every 1 s/.test(l)), s.stdout.join('\n'));
  // The poll re-reads an unchanged folder without making a new generation or a line.
  await new Promise((r) => setTimeout(r, 2500));
  t.like(await getJson(`${s.url}/readyz`), { generation: 1 });
  t.is(s.stdout.filter((l) => /policy generation/.test(l)).length, 1, s.stdout.join('\n'));
});
