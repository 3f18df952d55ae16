import test from 'ava';
import { mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../test/support/served.ts';
import { writeKubeletVolume } from '../test/support/kubelet-volume.ts';
import { digestOfManifests, isPolicyEvent, readManifestFiles, watchPolicyFolder } from './policy-folder.ts';

const SKU = (limit: number): string => `apiVersion: tai.dev/v1alpha1\nkind: SKU\nmetadata: { name: starter }\nspec: { quotas: { seats: { limit: ${limit}, kind: gauge } } }\n`;
const TENANT = 'apiVersion: tai.dev/v1alpha1\nkind: Tenant\nmetadata: { name: acme }\nspec: { sku: starter }\n';

async function volume(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tai-configmap-'));
}

test('a ConfigMap volume is read once per file, through its top-level symlinks, nested items included', async (t) => {
  const dir = await volume();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeKubeletVolume(dir, { 'skus.yaml': SKU(5), 'tenants/acme.yaml': TENANT, 'README.txt': 'not policy' });
  // The layout really is kubelet's: the same files are reachable three ways.
  const all = (await readdir(dir, { recursive: true })).filter((n) => n.endsWith('.yaml'));
  t.is(all.length, 6, all.join(', '));

  const files = await readManifestFiles([dir], dir);
  t.deepEqual(
    files.map((f) => f.file),
    ['skus.yaml', join('tenants', 'acme.yaml')],
  );
  t.is(files[0]!.text, SKU(5));
});

test('the update after a ..data swap is what is read; a dangling top-level symlink is skipped', async (t) => {
  const dir = await volume();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeKubeletVolume(dir, { 'skus.yaml': SKU(5), 'tenants.yaml': TENANT });
  let duringUpdate: string[] = [];
  await writeKubeletVolume(dir, { 'skus.yaml': SKU(9), 'tenants.yaml': TENANT }, {
    payloadWritten: async () => void (duringUpdate = (await readManifestFiles([dir], dir)).map((f) => f.text)),
  });
  t.deepEqual(duringUpdate, [SKU(5), TENANT], 'the next payload, written but not swapped in, is not read');
  t.deepEqual((await readManifestFiles([dir], dir)).map((f) => f.text), [SKU(9), TENANT]);

  await symlink('..data/gone.yaml', join(dir, 'gone.yaml')); // a key kubelet removes: dangling until step 4
  t.deepEqual((await readManifestFiles([dir], dir)).map((f) => f.file), ['skus.yaml', 'tenants.yaml']);
});

test('which watch events can change the policy', (t) => {
  const cases: [string, boolean][] = [
    ['skus.yaml', true],
    ['team-a/tenants.yml', true],
    ['kustomization.yaml', false],
    ['notes.txt', false],
    ['..data', true], // kubelet's swap: the one event an update raises for the visible files
    ['team-a/..data', true], // a volume mounted below the folder
    ['..data_tmp', false],
    ['..2026_11_23_10_00_00.123456789', false],
    ['..2026_11_23_10_00_00.123456789/skus.yaml', false], // the next payload, before the swap
    ['..data/skus.yaml', false],
  ];
  for (const [name, want] of cases) t.is(isPolicyEvent(name), want, name);
});

test('the watch fires on the ..data swap, and not on the payload written before it', async (t) => {
  const dir = await volume();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeKubeletVolume(dir, { 'skus.yaml': SKU(5) });
  let fired = 0;
  const stop = watchPolicyFolder(dir, () => fired++, 20);
  t.teardown(stop);
  await new Promise((r) => setTimeout(r, 100)); // the recursive watch arms its directories
  for (const limit of [6, 7]) {
    // Twice: after the first update the only event left for an update is the rename of ..data.
    const before = fired;
    await writeKubeletVolume(dir, { 'skus.yaml': SKU(limit) }, {
      payloadWritten: async () => {
        await new Promise((r) => setTimeout(r, 300)); // far past the debounce
        t.is(fired, before, `update ${limit}: writing the next payload is no change yet`);
      },
      swapped: async () => void t.true(await eventually(() => fired > before), `update ${limit}: the swap itself is seen`),
    });
    // Removing the old payload may raise events of its own after the swap (a reload then finds no change).
    await new Promise((r) => setTimeout(r, 150));
  }
});

test('the digest changes with any file name or text, and only then', (t) => {
  const a = [{ file: 'skus.yaml', text: SKU(5) }, { file: 'tenants.yaml', text: TENANT }];
  t.is(digestOfManifests(a), digestOfManifests(a.map((f) => ({ ...f }))));
  t.not(digestOfManifests(a), digestOfManifests([a[0]!, { file: 'tenants.yaml', text: `${TENANT} ` }]));
  t.not(digestOfManifests(a), digestOfManifests([a[0]!, { file: 'tenant.yaml', text: TENANT }]));
  t.not(digestOfManifests(a), digestOfManifests([a[0]!]));
  // No ambiguity where one field ends and the next begins.
  t.not(digestOfManifests([{ file: 'a', text: 'bc' }]), digestOfManifests([{ file: 'ab', text: 'c' }]));
});
