// config/cloudrun/service.yaml as Cloud Run would run it, twice in a row (each instance's disk is memory, so
// each starts with an empty log), against fake-gcs-server through the real client: callers need one of the
// token file's tokens; SIGTERM's last pass anchors the whole log; the second instance starts under a new origin
// instead of refusing to start over the first one's anchors; both logs verify from the bucket.
import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runTai } from './support/log-fixture.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';
import { argsUnderMounts, type Container } from './support/manifests.ts';
import { startServe, stopServe } from './support/served.ts';

const PROJECT = 'acme-prod';
let gcs: Gcs;
let container: Container;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-cloudrun-gcs-')), { backend: 'memory' });
  // What docs/deploy.md does before `gcloud run services replace`: the project and region filled in.
  const text = (await readFile('config/cloudrun/service.yaml', 'utf8')).replaceAll('PROJECT_ID', PROJECT).replaceAll('REGION', 'europe-west1');
  container = (parse(text) as { spec: { template: { spec: { containers: Container[] } } } }).spec.template.spec.containers[0]!;
  await gcs.storage().createBucket(`${PROJECT}-tai-anchors`);
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
});

/** The volumes' contents, made as docs/deploy.md says: the policy bucket's YAML, the token file, the signing key. The instance's /tmp (its memory disk) is per instance. */
async function secrets(root: string): Promise<Map<string, string>> {
  const dirs = new Map<string, string>();
  for (const m of container.volumeMounts ?? []) dirs.set(m.mountPath, join(root, m.name));
  await cp('config/samples', dirs.get('/policy')!, { recursive: true });
  await mkdir(dirs.get('/secrets/tokens')!, { recursive: true });
  await writeFile(join(dirs.get('/secrets/tokens')!, 'tokens'), 's3cret-billing,billing,uid-1,"saas"\n');
  const keygen = await runTai(['log', 'keygen', 'tai.dev/cloudrun/tai', '--out', join(dirs.get('/secrets/signing-key')!, 'key')]);
  if (keygen.code !== 0) throw new Error(keygen.err.join('\n'));
  return dirs;
}

/** One instance: the service's args, paths under its mounts, plus the emulator's endpoint (the one flag added). */
async function instance(dirs: Map<string, string>, tmp: string) {
  const args = argsUnderMounts(container.args.slice(1), new Map([...dirs, ['/tmp', tmp]])).map((a) => a.replace(/^--listen=0\.0\.0\.0:8080$/, '--listen=0.0.0.0:0'));
  const served = await startServe([...args, `--gcs-endpoint=${gcs.url}`]);
  return { served, base: served.url.replace('0.0.0.0', '127.0.0.1'), logDir: join(tmp, 'tai', 'log') };
}

test('two Cloud Run instances in turn: tokens asked for, each log anchored whole under its own origin, both verify', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'tai-cloudrun-'));
  const dirs = await secrets(root);
  const origins: string[] = [];
  for (const n of [1, 2]) {
    const { served, base, logDir } = await instance(dirs, join(root, `instance-${n}`));
    try {
      const consume = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', metric: 'api-calls', amount: 1 }) };
      t.is((await fetch(`${base}/v1/consume`, consume)).status, 401);
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${base}/v1/consume`, { ...consume, headers: { ...consume.headers, authorization: 'Bearer s3cret-billing' } });
        t.is(res.status, 200);
      }
    } finally {
      await stopServe(served);
    }
    t.is(await served.exited, 0, served.stderr.join('\n'));
    const origin = (await readFile(join(logDir, 'checkpoint'), 'utf8')).split('\n')[0]!;
    t.regex(origin, /^tai\.dev\/cloudrun\/tai\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    origins.push(origin);
    const vkey = join(dirs.get('/secrets/signing-key')!, 'key.pub');
    const local = await runTai(['log', 'verify', logDir, '--vkey', vkey, '--json']);
    const bucket = await runTai(['log', 'verify', `gs://${PROJECT}-tai-anchors/prod/${origin}`, '--vkey', vkey, '--gcs-endpoint', gcs.url, '--json']);
    t.is(bucket.code, 0, bucket.err.join('\n'));
    const checkpoint = (r: { out: string[] }) => (JSON.parse(r.out.join('\n')) as { checkpoint: unknown }).checkpoint;
    t.deepEqual(checkpoint(bucket), checkpoint(local), `instance ${n}: SIGTERM's last pass anchored the whole log`);
  }
  t.not(origins[0], origins[1]);
});
