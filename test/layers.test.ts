import test from 'ava';
import { ESLint, type Linter } from 'eslint';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import tseslint from 'typescript-eslint';

const ROOT = resolve(import.meta.dirname, '..');
/** The repository's lint configs (plain JS, so imported by URL and typed here). */
const config = ((await import(pathToFileURL(join(ROOT, 'eslint.config.js')).href)) as { default: Linter.Config[] }).default;
const { layers } = (await import(pathToFileURL(join(ROOT, 'eslint.layers.js')).href)) as { layers: (Linter.Config & { files: string[] })[] };

// The layer rules alone, on TypeScript's parser: no type information is needed to check an import's path.
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layers],
});

/** The no-restricted-imports messages for `code` linted as if it were the file at `path`. */
async function violations(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

test('eslint.config.js applies the layer rules', (t) => {
  for (const layer of layers) t.true(config.includes(layer), `eslint.config.js is missing the layer for ${layer.files.join(', ')}`);
});

const FORBIDDEN: [path: string, code: string, says: RegExp][] = [
  ['counters/fixture.ts', `import { RecordedGovernor } from '../recording/recorded-governor.ts';`, /counters\/ imports nothing of ours but governor\//],
  ['http/fixture.ts', `import { openSharedStore } from '../counters/redis-connect.ts';`, /http\/ does not import operator\/, client\/, counters\//],
  ['governor/fixture.ts', `import type { Readiness } from '../http/health.ts';`, /governor\/ imports nothing of ours but crds\//],
  ['governor/fixture.ts', `import { readFile } from 'node:fs/promises';`, /a pure folder does no I\/O/],
  ['governor/fixture.ts', `import { Hono } from 'hono';`, /a pure folder does no I\/O/],
  ['governor/fixture.ts', `import type { KubeApi } from '../kube/index.ts';`, /governor\//],
  ['crds/fixture.ts', `import { compileTenant } from '../governor/index.ts';`, /crds\/ sits at the bottom/],
  ['receipts/fixture.ts', `import { ReceiptLog } from './store/index.ts';`, /does not import its I\/O edges/],
  ['receipts/fixture.ts', `import { readFile } from 'node:fs';`, /a pure folder does no I\/O/],
  ['receipts/store/fixture.ts', `import { Anchorer } from '../anchor/index.ts';`, /receipts\/store\/ does not import receipts\/anchor\//],
  ['receipts/anchor/fixture.ts', `import { x } from '../../cli/io.ts';`, /receipts\/anchor\/ imports only/],
  ['receipts/client/fixture.ts', `import { ReceiptLog } from '../store/index.ts';`, /receipts\/client\/ reads a published log through the receipts core/],
  ['receipts/client/fixture.ts', `import { Storage } from '@google-cloud/storage';`, /receipts\/client\/ does not make a Cloud Storage client/],
  ['kube/fixture.ts', `import { Operator } from '../operator/index.ts';`, /kube\/ sits at the bottom/],
  ['readiness/fixture.ts', `import type { PolicySnapshot } from '../governor/index.ts';`, /readiness\/ sits at the bottom/],
  ['operator/fixture.ts', `import { AdmissionController } from '../http/admission/index.ts';`, /operator\/ does not import http\//],
  ['operator/fixture.ts', `import { createApp } from '../http/app.ts';`, /operator\/ does not import http\//],
  ['operator/fixture.ts', `import { serve } from '../cli/serve.ts';`, /operator\/ does not import/],
  ['http/fixture.ts', `import type { KubeApi } from '../operator/index.ts';`, /http\/ does not import operator\//],
  ['http/admission/fixture.ts', `import { io } from '../../cli/io.ts';`, /http\/ does not import/],
  ['client/fixture.ts', `import { KubeClient } from '../kube/index.ts';`, /client\/ talks HTTP/],
  ['cli/fixture.ts', `import { startOperator } from '../test/support/operator.ts';`, /shipped code does not import test\//],
  ['server/fixture.ts', `import { parseFlags } from '../cli/flags.ts';`, /server\/ does not import client\/ or cli\//],
  ['http/fixture.ts', `import { startServer } from '../server/index.ts';`, /http\/ does not import operator\/, client\/, counters\/, server\//],
  ['http/fixture.ts', `import { startOperator } from '../test/support/operator.ts';`, /shipped code does not import test\//],
  ['recording/fixture.ts', `import { createApp } from '../http/app.ts';`, /recording\/ imports nothing of ours but governor\/, crds\//],
  ['recording/fixture.ts', `import { Anchorer } from '../receipts/anchor/index.ts';`, /recording\/ imports nothing of ours but/],
  ['recording/fixture.ts', `import { Hono } from 'hono';`, /recording\/ is below the HTTP app/],
  ['ledger/fixture.ts', `import { logReader } from '../receipts/client/index.ts';`, /ledger\/ imports nothing of ours but governor\/, crds\/ and the receipts core/],
  ['ledger/fixture.ts', `import { scopeFilter } from '../cli/audit/index.ts';`, /ledger\/ imports nothing of ours but/],
  ['ledger/fixture.ts', `import { readFile } from 'node:fs/promises';`, /a pure folder does no I\/O/],
];

for (const [path, code, says] of FORBIDDEN) {
  test(`${path}: ${code} is refused`, async (t) => {
    const found = await violations(path, code);
    t.is(found.length, 1, found.join('\n'));
    t.regex(found[0] ?? '', /^no-restricted-imports: /);
    t.regex(found[0] ?? '', says);
  });
}

const ALLOWED: [path: string, code: string][] = [
  ['counters/fixture.ts', `import type { SharedCounters } from '../governor/index.ts';\nimport { createClient } from '@redis/client';`],
  ['server/fixture.ts', `import { openSharedStore } from '../counters/redis-connect.ts';`],
  ['governor/fixture.ts', `import type { Tenant } from '../crds/index.ts';\nimport { createHash } from 'node:crypto';`],
  ['receipts/store/fixture.ts', `import { readFile } from 'node:fs/promises';\nimport { toHex } from '../merkle-hash.ts';`],
  ['receipts/anchor/fixture.ts', `import { ReceiptLog } from '../store/index.ts';`],
  ['receipts/client/fixture.ts', `import { readFile } from 'node:fs/promises';\nimport { toHex } from '../merkle-hash.ts';`],
  ['operator/fixture.ts', `import type { KubeApi } from '../kube/index.ts';\nimport type { Readiness } from '../readiness/index.ts';`],
  ['http/fixture.ts', `import type { KubeApi } from '../kube/index.ts';\nimport { Hono } from 'hono';`],
  ['http/fixture.ts', `import { RecordedGovernor } from '../recording/recorded-governor.ts';\nimport type { Readiness } from '../readiness/index.ts';\nimport { ReceiptLog } from '../receipts/store/index.ts';`],
  ['http/admission/fixture.ts', `import { checkEntitlementsReceipt } from '../../recording/reconcile-size.ts';\nimport { compileTenant } from '../../governor/index.ts';`],
  ['cli/fixture.ts', `import { Operator } from '../operator/index.ts';\nimport { createApp } from '../http/app.ts';`],
  ['server/fixture.ts', `import { createApp } from '../http/app.ts';\nimport { Operator } from '../operator/index.ts';\nimport { ReceiptLog } from '../receipts/store/index.ts';`],
  ['cli/fixture.ts', `import { startServer } from '../server/index.ts';`],
  ['recording/fixture.ts', `import { compileTenant } from '../governor/index.ts';\nimport { ReceiptLog } from '../receipts/store/index.ts';\nimport { sha256 } from '../receipts/index.ts';`],
  ['ledger/fixture.ts', `import { toHex, type ChainedEntry } from '../receipts/index.ts';\nimport type { Tenant } from '../crds/index.ts';\nimport { comparePercent } from '../governor/thresholds.ts';`],
  ['http/ui/fixture.ts', `import { foldTenant } from '../../ledger/index.ts';`],
  ['cli/audit/fixture.ts', `import { AuditFold } from '../../ledger/index.ts';`],
  // Tests sit beside the code and may import anything.
  ['governor/fixture.test.ts', `import { startOperator } from '../test/support/operator.ts';\nimport { readFile } from 'node:fs/promises';`],
];

for (const [path, code] of ALLOWED) {
  test(`${path}: ${code.split('\n')[0]} is allowed`, async (t) => {
    t.deepEqual(await violations(path, code), []);
  });
}
