// config/cloudrun/service.yaml as Cloud Run would run it, against fake-gcs-server through the real client and a
// real redis-server standing in for Memorystore (AUTH, TLS). Twice in a row (each instance's disk is memory, so
// each starts with an empty log): callers need one of the token file's tokens; SIGTERM's last pass anchors the
// whole log; the second instance starts under a new origin instead of refusing to start over the first one's
// anchors, and carries on from the usage the first one counted; both logs verify from the bucket. Then two at
// once, as minScale asks: together they grant a quota once.
import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runTai } from './support/log-fixture.ts';
import { gcsDown, gcsUp, type Gcs } from './support/gcs.ts';
import { argsUnderMounts, type Container } from './support/manifests.ts';
import { startRedis, stopRedis, type RedisServer } from './support/redis-server.ts';
import { startServe, stopServe } from './support/served.ts';

const PROJECT = 'acme-prod';
let gcs: Gcs;
let redis: RedisServer;
let service: { metadata: { annotations: Record<string, string> } };
let container: Container;

test.before(async () => {
  gcs = await gcsUp(await mkdtemp(join(tmpdir(), 'tai-cloudrun-gcs-')), { backend: 'memory' });
  redis = await startRedis({ password: 'memorystore-auth-string', tls: true });
  // What docs/deploy.md does before `gcloud run services replace`: the project, region and Memorystore's IP filled
  // in (here the whole endpoint: this redis-server is on a port of its own, Memorystore's TLS port is 6378).
  const text = (await readFile('config/cloudrun/service.yaml', 'utf8')).replaceAll('PROJECT_ID', PROJECT).replaceAll('REGION', 'europe-west1').replaceAll('rediss://MEMORYSTORE_IP:6378', redis.url);
  const parsed = parse(text) as { spec: { template: typeof service & { spec: { containers: Container[] } } } };
  service = parsed.spec.template;
  container = parsed.spec.template.spec.containers[0]!;
  await gcs.storage().createBucket(`${PROJECT}-tai-anchors`);
});

test.after.always(async () => {
  if (gcs) await gcsDown(gcs, true);
  if (redis) await stopRedis(redis);
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
  // Memorystore's AUTH string and server CA, each a Secret Manager secret of its own.
  await mkdir(dirs.get('/secrets/counters-auth')!, { recursive: true });
  await writeFile(join(dirs.get('/secrets/counters-auth')!, 'auth'), `${redis.password!}\n`);
  await mkdir(dirs.get('/secrets/counters-ca')!, { recursive: true });
  await cp(redis.caFile!, join(dirs.get('/secrets/counters-ca')!, 'ca.crt'));
  return dirs;
}

/** One instance: the service's args, paths under its mounts, plus the emulator's endpoint (the one flag added). */
async function instance(dirs: Map<string, string>, tmp: string) {
  const args = argsUnderMounts(container.args.slice(1), new Map([...dirs, ['/tmp', tmp]])).map((a) => a.replace(/^--listen=0\.0\.0\.0:8080$/, '--listen=0.0.0.0:0'));
  const served = await startServe([...args, `--gcs-endpoint=${gcs.url}`]);
  return { served, base: served.url.replace('0.0.0.0', '127.0.0.1'), logDir: join(tmp, 'tai', 'log') };
}

const consume = (base: string, body: object): Promise<Response> =>
  fetch(`${base}/v1/consume`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret-billing' }, body: JSON.stringify(body) });

test.serial('two Cloud Run instances in turn: tokens asked for, usage carried on, each log anchored whole under its own origin, both verify', async (t) => {
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
        // The counters are in Memorystore, not on the instance's memory disk: the second carries on at 21.
        t.like(await res.json(), { allowed: true, used: (n - 1) * 20 + i + 1 });
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

test.serial('two Cloud Run instances at once (minScale 2, maxScale above): together they grant a quota once, each answer naming its own log', async (t) => {
  const annotations = service.metadata.annotations;
  t.true(Number(annotations['autoscaling.knative.dev/minScale']) >= 2, 'losing one instance leaves one warm');
  t.true(Number(annotations['autoscaling.knative.dev/maxScale']) > Number(annotations['autoscaling.knative.dev/minScale']));
  t.truthy(annotations['run.googleapis.com/network-interfaces'], 'Direct VPC egress to reach Memorystore’s private IP');
  t.is(annotations['run.googleapis.com/vpc-access-egress'], 'private-ranges-only');
  const root = await mkdtemp(join(tmpdir(), 'tai-cloudrun-pair-'));
  const dirs = await secrets(root);
  const pair = await Promise.all([1, 2].map((n) => instance(dirs, join(root, `instance-${n}`))));
  try {
    // globex (starter) has 5 seats: 3 on one instance, then 3 on the other would be 6; on its own, each would fit.
    const first = (await (await consume(pair[0]!.base, { tenant: 'globex', metric: 'seats', amount: 3 })).json()) as { receipt: { origin: string } };
    const second = (await (await consume(pair[1]!.base, { tenant: 'globex', metric: 'seats', amount: 3 })).json()) as { receipt: { origin: string } };
    t.like(first, { allowed: true, used: 3 });
    t.like(second, { allowed: false, reason: 'QuotaExceeded', used: 3 });
    t.not(first.receipt.origin, second.receipt.origin);
    for (const answer of [first, second]) t.regex(answer.receipt.origin, /^tai\.dev\/cloudrun\/tai\/\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  } finally {
    await Promise.all(pair.map(({ served }) => stopServe(served)));
  }
  for (const { served } of pair) t.is(await served.exited, 0, served.stderr.join('\n'));
});
