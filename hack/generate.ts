/**
 * `npm run generate`: writes everything generated from crds/ — the CRD bases and kustomization under
 * config/crd/ and the API reference docs/api.md — and prints each path. Stale CRD files (a kind that no
 * longer exists) are removed. crds/crd-yaml.test.ts fails when the committed files differ from this output.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { apiDocFile } from '../crds/api-doc.ts';
import { CRD_DIR, crdFiles } from '../crds/crd-yaml.ts';
import type { GeneratedFile } from '../crds/crd-yaml.ts';

const root = join(import.meta.dirname, '..');

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log('usage: node hack/generate.ts\n\nWrites config/crd/bases/*.yaml, config/crd/kustomization.yaml and docs/api.md from crds/.');
  process.exit(0);
}

const files: GeneratedFile[] = [...crdFiles(), apiDocFile()];

for (const file of files) {
  const target = join(root, file.path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  console.log(`wrote   ${file.path}`);
}

const wanted = new Set(files.map((f) => f.path));
const basesDir = join(root, CRD_DIR, 'bases');
for (const name of readdirSync(basesDir)) {
  const path = relative(root, join(basesDir, name));
  if (name.endsWith('.yaml') && !wanted.has(path)) {
    rmSync(join(basesDir, name));
    console.log(`removed ${path} (no kind generates it)`);
  }
}
