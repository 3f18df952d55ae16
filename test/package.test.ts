// What the image holds (Dockerfile): the files `npm pack` ships, their production dependencies installed with
// `npm ci --omit=dev --ignore-scripts` against our lockfile, run by Node 24 (design §8). Built here the same way,
// minus the container: the packed governor validates, serves a decision with a receipt, and verifies its log,
// on Node 24, writing nothing in its own folder.
import test from 'ava';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startServe, stopServe } from './support/served.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const NODE_MAJOR = 24; // the image's FROM lines

interface Packed {
  files: string[];
  app: string;
  node: string;
}

let packed: Promise<Packed> | undefined;

/** Packs, unpacks and installs once; the tests share it. */
function image(): Promise<Packed> {
  packed ??= (async () => {
    const work = await mkdtemp(join(tmpdir(), 'tai-package-'));
    const app = join(work, 'app');
    await mkdir(app);
    const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT });
    const [pack] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    await run('tar', ['-xzf', join(work, pack!.filename), '-C', app, '--strip-components=1']);
    await cp(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
    await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 1 << 24 });
    return { files: pack!.files.map((f) => f.path), app, node: await node24() };
  })();
  return packed;
}

/** Node 24 from the npm registry's platform package, cached in .tai/ (the project's own Node is 26). */
async function node24(): Promise<string> {
  const prefix = join(ROOT, '.tai', `node${NODE_MAJOR}`);
  const pkg = `node-${process.platform}-${process.arch}`;
  const bin = join(prefix, 'node_modules', pkg, 'bin', 'node');
  if (!existsSync(bin)) await run('npm', ['install', '--no-save', '--prefer-offline', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@${NODE_MAJOR}`]);
  return bin;
}

test('the package ships the governor and its manifests, and nothing of the tests, benchmarks or dev tools', async (t) => {
  const { files, app } = await image();
  for (const f of ['cli/tai.ts', 'index.ts', 'receipts/store/receipt-log.ts', 'config/crd/bases/tai.dev_tenants.yaml', 'config/default/kustomization.yaml']) t.true(files.includes(f), f);
  t.deepEqual(files.filter((f) => /\.test(-helper)?\.ts$|^(bench|test|hack|\.ci)\/|testdata|log-fixture/.test(f)), []);
  const devDependencies = Object.keys((JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies);
  const installed = new Set(await readdir(join(app, 'node_modules')));
  // @types/node comes in as a dependency of a dependency (client-node's types); every dev tool must stay out.
  const tools = devDependencies.filter((d) => !d.startsWith('@types/'));
  t.true(tools.includes('ava') && tools.includes('node'));
  t.deepEqual(tools.filter((d) => installed.has(d.split('/')[0]!) && existsSync(join(app, 'node_modules', d))), []);
});

test(`on Node ${NODE_MAJOR}, the packed governor validates, serves a decision with a receipt, and its log verifies`, async (t) => {
  const { app, node } = await image();
  t.regex((await run(node, ['--version'])).stdout, new RegExp(`^v${NODE_MAJOR}\\.`));
  const tai = join(app, 'cli', 'tai.ts');
  const scratch = await mkdtemp(join(tmpdir(), 'tai-package-run-'));
  const valid = await run(node, [tai, 'validate', join(app, 'config/samples')], { cwd: scratch });
  t.regex(valid.stdout, /valid/);
  const before = await listing(app);
  const served = await startServe(['--from', join(app, 'config/samples'), '--listen', '127.0.0.1:0', '--log', join(scratch, 'log'), '--key', join(scratch, 'key')], { node, tai, cwd: scratch });
  try {
    const res = await fetch(`${served.url}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount: 1 }) });
    t.is(res.status, 200);
    const answer = (await res.json()) as { allowed: boolean; receipt: { index: number; leafHash: string } };
    t.true(answer.allowed);
    t.regex(answer.receipt.leafHash, /^[0-9a-f]{64}$/);
  } finally {
    await stopServe(served);
  }
  t.is(await served.exited, 0, served.stderr.join('\n'));
  const verified = await run(node, [tai, 'log', 'verify', join(scratch, 'log'), '--vkey', join(scratch, 'key.pub')], { cwd: scratch });
  t.regex(verified.stdout, /✓/);
  t.deepEqual(await listing(app), before, 'the image’s folder is read-only in a pod: nothing may be written there');
});

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).filter((f) => !f.startsWith('node_modules')).sort();
}
