import test from 'ava';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from './tai.ts';

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function brokenCopy(edit: (text: string) => string, file = 'tenants.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tai-samples-'));
  await cp('config/samples', dir, { recursive: true });
  const path = join(dir, file);
  await writeFile(path, edit(await readFile(path, 'utf8')));
  return dir;
}

test('validate config/samples exits 0', async (t) => {
  const r = await run(['validate', 'config/samples']);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /4 SKUs, 6 tenants, 2 quotas: valid/);
});

test('validate names the file, line and field of a wrong type, and exits 1', async (t) => {
  const dir = await brokenCopy((s) => s.replace('sku: starter\n---', 'sku: starter\n  suspended: "no"\n---'));
  const r = await run(['validate', dir]);
  t.is(r.code, 1);
  t.regex(r.err, /tenants\.yaml:\d+: spec\.suspended: .*boolean/);
});

test('validate reports a negative limit at its path and line', async (t) => {
  const dir = await brokenCopy((s) => s.replace('api-calls: { limit: 100000,', 'api-calls: { limit: -100000,'), 'skus.yaml');
  const r = await run(['validate', dir]);
  t.is(r.code, 1);
  t.regex(r.err, /skus\.yaml:14: spec\.quotas\.api-calls\.limit: /);
});

test('validate reports an unknown SKU as a compile error on the tenant', async (t) => {
  const dir = await brokenCopy((s) => s.replace('sku: enterprise', 'sku: platinum'));
  const r = await run(['validate', dir]);
  t.is(r.code, 1);
  t.regex(r.err, /tenants\.yaml:\d+: spec\.sku: Tenant\/initech: SKUNotFound/);
});

test('validate reports malformed YAML with its line', async (t) => {
  const dir = await brokenCopy((s) => `${s}\n---\nkind: [unclosed\n`, 'quotas.yaml');
  const r = await run(['validate', dir]);
  t.is(r.code, 1);
  t.regex(r.err, /quotas\.yaml:\d+: /);
});

test('validate on a missing path is a usage error', async (t) => {
  const r = await run(['validate', 'no/such/dir']);
  t.is(r.code, 2);
  t.regex(r.err, /ENOENT|no such file/);
});

test('explain prints provenance for every layer', async (t) => {
  const r = await run(['explain', 'tenant', 'acme', '--from', 'config/samples']);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /api-calls limit 2000000 = SKU\/starter 100000, SKU\/growth 1000000, Tenant\/acme overrides 2000000/);
  t.regex(r.out, /sso false = SKU\/starter false, SKU\/growth true, Tenant\/acme overrides false/);
  const hooli = await run(['explain', 'tenant', 'hooli', '--from', 'config/samples', '--json']);
  const parsed = JSON.parse(hooli.out) as { quotas: Record<string, { value: number }> };
  t.is(parsed.quotas['api-calls']!.value, 2_000_000, 'growth 1M + 2 × 500k add-on');
});

test('explain of an unknown tenant exits 1', async (t) => {
  const r = await run(['explain', 'tenant', 'nobody', '--from', 'config/samples']);
  t.is(r.code, 1);
  t.regex(r.err, /"nobody" is not defined/);
});

test('crds prints three CustomResourceDefinitions', async (t) => {
  const r = await run(['crds']);
  t.is(r.code, 0);
  t.is(r.out.match(/^kind: CustomResourceDefinition$/gm)?.length, 3);
});

test('every command has --help; unknown commands and flags are usage errors', async (t) => {
  for (const c of ['serve', 'validate', 'explain', 'crds']) {
    const r = await run([c, '--help']);
    t.is(r.code, 0, c);
    t.regex(r.out, /^Usage: tai /, c);
  }
  t.is((await run(['frobnicate'])).code, 2);
  t.is((await run(['validate', '--bogus', 'x'])).code, 2);
  t.is((await run(['serve', '--from', 'config/samples', '--listen', '0.0.0.0:8080'])).code, 2, 'embedded mode is loopback only');
  t.regex((await run(['serve', '--from', 'x', '--gcs', 'gs://b/p'])).err, /expected gs:\/\/BUCKET\[\/PREFIX\], got "gs:\/\/b\/p"/);
  t.regex((await run(['serve', '--from', 'x', '--gcs-endpoint', 'http://127.0.0.1:1'])).err, /--gcs-endpoint goes with --gcs/);
  t.regex((await run(['serve', '--from', 'x', '--durability', 'maybe'])).err, /--durability: expected sync or async/);
});

test('serve --poll-interval: whole seconds, embedded mode only, and in --help beside --from', async (t) => {
  const help = (await run(['serve', '--help'])).out;
  t.regex(help, /--from DIR .*\n(.*\n)?\s+--poll-interval S\s+embedded mode: also re-read DIR every S seconds \(default 0: off\)/);
  for (const bad of ['-1', 'abc', '1.5', '', '86401', '5s']) {
    const r = await run(['serve', '--from', 'config/samples', `--poll-interval=${bad}`]);
    t.is(r.code, 2, bad);
    t.true(r.err.startsWith(`tai serve: --poll-interval: expected whole seconds from 0 (off) to 86400, got ${JSON.stringify(bad)}\n`), r.err);
  }
  for (const mode of [['--kubeconfig', 'kubeconfig.yaml'], ['--in-cluster'], []]) {
    const r = await run(['serve', ...mode, '--poll-interval', '5']);
    t.is(r.code, 2, mode.join(' '));
    t.regex(r.err, /^tai serve: --poll-interval goes with --from DIR \(embedded mode\)/, mode.join(' '));
  }
});
