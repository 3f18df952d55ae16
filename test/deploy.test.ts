// config/default as a platform team applies it, on a control plane of this test's own: every base renders, the
// API server accepts every object (server-side dry run), the pod is locked down, its parts name each other, and
// the StatefulSet's replicas — their args, env and mounts, as the kubelet would start them — come up against the
// real API server with the shipped RBAC and a real redis-server standing in for Memorystore (AUTH, TLS), pass their
// own probes, ask callers for a token and share counters; config/single-replica runs without Redis.
import test from 'ava';
import { cp, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { runTai } from './support/log-fixture.ts';
import { openApiDocument } from '../http/openapi.ts';
import { makeTestCa } from './support/certs.ts';
import { clusterDown, clusterUp, kubectl, type Cluster } from './support/cluster.ts';
import { argsUnderMounts, containerEnv, expandArgs, only, podSpecOf, render, type Container, type Manifest, type Probe } from './support/manifests.ts';
import { installTai, serviceAccountKubeconfig } from './support/operator.ts';
import { startRedis, stopRedis, type RedisServer } from './support/redis-server.ts';
import { eventually, startServe, stopServe, type Served } from './support/served.ts';
import { trustingFetch } from './support/webhook.ts';

const BASES = ['crd', 'rbac', 'certmanager', 'manager', 'webhook'];
let cluster: Cluster;
let objects: Manifest[];

test.before(async () => {
  cluster = await clusterUp(await mkdtemp(join(tmpdir(), 'tai-deploy-cluster-')));
  objects = await render(cluster, 'config/default');
});

test.after.always(async () => {
  if (cluster) await clusterDown(cluster.dir, true);
});

const key = (o: Manifest): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const statefulSet = (): Manifest => only(objects, 'StatefulSet', 'tai');
const governor = (): Container => podSpecOf(statefulSet()).containers[0]!;
const podLabels = (sts: Manifest): Record<string, string> => (sts.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
/** The value of `--NAME=VALUE` in `args`. */
const flag = (args: readonly string[], name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

/** The kustomization in docs/deploy.md's block marked `<!-- overlay:NAME -->`, built with this checkout's config/ for the repository's URLs. */
async function docsOverlay(name: string): Promise<Manifest[]> {
  const doc = await readFile('docs/deploy.md', 'utf8');
  const block = new RegExp(`<!-- overlay:${name}[^>]*-->\n\`\`\`yaml\n([\\s\\S]*?)\`\`\``).exec(doc)?.[1];
  if (block === undefined) throw new Error(`docs/deploy.md has no block marked overlay:${name}`);
  const dir = await mkdtemp(join(tmpdir(), 'tai-overlay-'));
  await writeFile(join(dir, 'kustomization.yaml'), block.replace(/https:\/\/github\.com\/\S+?\/\/(config\/[\w-]+)\?ref=\S+/g, (_, path: string) => relative(dir, resolve(path))));
  return render(cluster, dir);
}

test('every kustomize base renders, and config/default is exactly crd + rbac + certmanager + manager + webhook', async (t) => {
  const parts: Manifest[] = [];
  for (const base of [...BASES, 'cloudrun', 'argocd']) {
    const rendered = await render(cluster, `config/${base}`);
    t.true(rendered.length > 0, base);
    if (BASES.includes(base)) parts.push(...rendered);
  }
  t.deepEqual(objects.map(key).sort(), parts.map(key).sort());
});

test('the API server accepts every object of config/default (server-side dry run), and refuses a broken one', async (t) => {
  await installTai(cluster); // the CRDs and tai-system exist for real, as after a first apply
  const ours = objects.filter((o) => !o.apiVersion.startsWith('cert-manager.io/'));
  const list = (items: unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
  const dry = await kubectl(cluster, ['apply', '--dry-run=server', '-f', '-'], list(ours));
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /statefulset\.apps\/tai (created|configured|unchanged) \(server dry run\)/);
  t.regex(dry.stdout, /poddisruptionbudget\.policy\/tai (created|configured|unchanged) \(server dry run\)/);
  t.regex(dry.stdout, /validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/tai-admission .*\(server dry run\)/);
  // The same check catches what a typo would break: a port name the probes use that no container port has.
  const broken = structuredClone(statefulSet()) as Manifest & { spec: { template: { spec: { containers: Container[] } } } };
  broken.spec.template.spec.containers[0]!.ports = [{ name: 'https-typo-longer-than-15', containerPort: 8443 }];
  const refused = await kubectl(cluster, ['apply', '--dry-run=server', '-f', '-'], list([broken]));
  t.is(refused.code, 1);
  t.regex(refused.stderr, /must be no more than 15 characters/);
});

test('the governor pod is locked down: non-root, read-only root, no privileges, requests set; it writes only to volumes', (t) => {
  const pod = podSpecOf(statefulSet());
  const c = governor();
  t.like(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
  t.not(pod.securityContext?.runAsUser, 0);
  t.like(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.truthy(c.resources?.requests?.cpu);
  t.truthy(c.resources?.requests?.memory);
  t.truthy(c.resources?.limits?.memory);
  const writable = (c.volumeMounts ?? []).filter((m) => !m.readOnly).map((m) => m.mountPath);
  const logArg = c.args.find((a) => a.startsWith('--log='))!.slice('--log='.length);
  t.true(writable.some((p) => logArg.startsWith(`${p}/`)), `--log ${logArg} is on a writable volume`);
  const claims = (statefulSet().spec as { volumeClaimTemplates: Array<{ metadata: { name: string } }> }).volumeClaimTemplates.map((v) => v.metadata.name);
  const volumes = [...(pod.volumes ?? []).map((v) => v.name), ...claims];
  for (const m of c.volumeMounts ?? []) t.true(volumes.includes(m.name), `mount ${m.name} has a volume`);
});

test('the parts name each other: service account, services, ports, probes, certificate and webhook', (t) => {
  const pod = podSpecOf(statefulSet());
  const c = governor();
  const labels = podLabels(statefulSet());
  t.truthy(only(objects, 'ServiceAccount', pod.serviceAccountName));
  for (const b of objects.filter((o) => o.kind.endsWith('RoleBinding'))) {
    t.deepEqual((b.subjects as Array<{ name: string; namespace: string }>).map((s) => `${s.namespace}/${s.name}`), [`tai-system/${pod.serviceAccountName}`], key(b));
  }
  const services = objects.filter((o) => o.kind === 'Service');
  const portNames = (c.ports ?? []).map((p) => p.name);
  for (const s of services) {
    const spec = s.spec as { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> };
    t.like(labels, spec.selector, `${s.metadata.name} selects the governor`);
    for (const p of spec.ports) t.true(portNames.includes(String(p.targetPort)) || (c.ports ?? []).some((cp) => cp.containerPort === p.targetPort), `${s.metadata.name} → ${p.targetPort}`);
  }
  const paths = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths);
  for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe] as Probe[]) {
    t.true(paths.includes(probe.httpGet.path), `probe ${probe.httpGet.path} is an endpoint`);
    t.true(portNames.includes(String(probe.httpGet.port)));
    t.is(probe.httpGet.scheme, 'HTTPS', 'the listener is TLS (--tls-cert)');
  }
  const cert = only(objects, 'Certificate', 'tai-webhook');
  const certSpec = cert.spec as { secretName: string; dnsNames: string[] };
  t.true((pod.volumes ?? []).some((v) => v.secret?.secretName === certSpec.secretName), 'the pod mounts the certificate’s Secret');
  const webhooks = only(objects, 'ValidatingWebhookConfiguration');
  t.is(webhooks.metadata.annotations?.['cert-manager.io/inject-ca-from'], `${cert.metadata.namespace}/${cert.metadata.name}`);
  for (const w of webhooks.webhooks as Array<{ clientConfig: { service: { name: string; namespace: string; port: number; path: string } } }>) {
    const ref = w.clientConfig.service;
    const svc = only(objects, 'Service', ref.name);
    t.true((svc.spec as { ports: Array<{ port: number }> }).ports.some((p) => p.port === ref.port));
    t.true(certSpec.dnsNames.includes(`${ref.name}.${ref.namespace}.svc`), `the certificate names ${ref.name}.${ref.namespace}.svc`);
    t.is(ref.path, '/admission/validate'); // answered by the running container in the next test
  }
  t.true(certSpec.dnsNames.includes('tai.tai-system.svc'));
});

test('three replicas: one away at a time (PodDisruptionBudget), spread over zones and hosts, every ready one behind the webhook', (t) => {
  const sts = statefulSet();
  const spec = sts.spec as { replicas: number; podManagementPolicy: string; selector: { matchLabels: Record<string, string> } };
  const pod = podSpecOf(sts);
  const labels = podLabels(sts);
  t.is(spec.replicas, 3);
  t.is(spec.podManagementPolicy, 'Parallel');
  const pdb = only(objects, 'PodDisruptionBudget', 'tai');
  const budget = pdb.spec as { maxUnavailable?: number; minAvailable?: number; unhealthyPodEvictionPolicy?: string; selector: { matchLabels: Record<string, string> } };
  t.is(pdb.metadata.namespace, sts.metadata.namespace);
  t.deepEqual(budget.selector.matchLabels, spec.selector.matchLabels, 'the budget covers exactly the governor’s pods');
  t.is(budget.maxUnavailable ?? spec.replicas - budget.minAvailable!, 1, 'a drain takes one replica at a time');
  t.is(budget.unhealthyPodEvictionPolicy, 'AlwaysAllow', 'a replica that is not ready never blocks a drain');
  const spread = pod.topologySpreadConstraints ?? [];
  t.like(spread.find((c) => c.topologyKey === 'topology.kubernetes.io/zone'), { maxSkew: 1, whenUnsatisfiable: 'DoNotSchedule' });
  t.like(spread.find((c) => c.topologyKey === 'kubernetes.io/hostname'), { maxSkew: 1 });
  for (const c of spread) t.like(labels, c.labelSelector.matchLabels, `${c.topologyKey} counts the governor’s pods`);
  // The webhook's Service: every replica (no per-pod selector), and only those its readiness probe calls ready.
  const webhook = only(objects, 'Service', 'tai-webhook').spec as { selector: Record<string, string>; publishNotReadyAddresses?: boolean };
  t.like(labels, webhook.selector);
  t.false('statefulset.kubernetes.io/pod-name' in webhook.selector);
  t.not(webhook.publishNotReadyAddresses, true);
  t.is(governor().readinessProbe?.httpGet.path, '/readyz');
  // Leaving, a replica keeps answering while its endpoint is withdrawn, well inside the grace period.
  const linger = governor().lifecycle?.preStop?.sleep?.seconds ?? 0;
  t.true(linger > 0 && linger + 10 <= (pod.terminationGracePeriodSeconds ?? 30), `preStop sleeps ${linger} s`);
});

test('--counters is wired: the endpoint from tai-settings, AUTH string and server CA from the tai-counters Secret, one origin per replica', (t) => {
  const c = governor();
  const pod = podSpecOf(statefulSet());
  const replicas = ['tai-0', 'tai-1', 'tai-2'].map((name) => expandArgs(c.args, containerEnv(c, { name, namespace: 'tai-system' }, objects)));
  t.deepEqual(new Set(replicas.map((args) => flag(args, 'counters'))), new Set(['rediss://MEMORYSTORE_IP:6378']), 'one store for all');
  t.deepEqual(replicas.map((args) => flag(args, 'origin')), ['tai-0', 'tai-1', 'tai-2'].map((p) => `tai.dev/cluster/default/${p}`), 'each its own log');
  const volume = (pod.volumes ?? []).find((v) => v.secret?.secretName === 'tai-counters');
  const mount = (c.volumeMounts ?? []).find((m) => m.name === volume?.name);
  t.true(mount?.readOnly);
  t.is(flag(c.args, 'counters-password-file'), `${mount!.mountPath}/auth`);
  t.is(flag(c.args, 'counters-ca-file'), `${mount!.mountPath}/ca.crt`);
});

test('config/single-replica, as docs/deploy.md adds it: one replica without Redis, nothing of --counters left, and the API server accepts it', async (t) => {
  const rendered = await docsOverlay('single-replica');
  const sts = only(rendered, 'StatefulSet', 'tai');
  const c = podSpecOf(sts).containers[0]!;
  t.is((sts.spec as { replicas: number }).replicas, 1);
  t.deepEqual(c.args, governor().args.filter((a) => !a.startsWith('--counters')));
  t.false(JSON.stringify(sts).includes('counters'), 'no env, mount or volume for the counters');
  t.is(podSpecOf(sts).topologySpreadConstraints, undefined, 'nothing to spread; runs on nodes without a zone label');
  t.deepEqual(rendered.map(key).sort(), objects.map(key).sort(), 'the same objects otherwise');
  const dry = await kubectl(cluster, ['apply', '--dry-run=client', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [sts] }));
  t.is(dry.code, 0, dry.stderr);
});

/** A replica started as the kubelet would start pod NAME, and where its log is. */
interface Replica {
  name: string;
  served: Served;
  base: string;
  log: string;
}

/** What every replica of the test shares: the Secrets' folders, the objects its env reads, the identity it runs as. */
interface PodContext {
  container: Container;
  objects: Manifest[];
  /** Mount path → folder, for the read-only (Secret) volumes every replica mounts the same. */
  secrets: ReadonlyMap<string, string>;
  kubeconfig: string;
  root: string;
  /** The image's /app: nothing may be written there. */
  workdir: string;
}

/**
 * The Secrets' files, made as their docs say: cert-manager's tls.*, `tai log keygen`'s key, and Memorystore's AUTH
 * string and server CA (those of `redis`, if given). Returns the folders by mount path and the serving certificate's CA.
 */
async function secretFolders(c: Container, root: string, redis?: RedisServer): Promise<{ secrets: Map<string, string>; caPem: string }> {
  const secrets = new Map((c.volumeMounts ?? []).filter((m) => m.readOnly).map((m) => [m.mountPath, join(root, 'secrets', m.name)]));
  for (const dir of secrets.values()) await mkdir(dir, { recursive: true });
  const ca = makeTestCa('tai-deploy-ca-');
  const issued = ca.issue('webhook', '0a');
  await cp(issued.cert, join(secrets.get('/etc/tai/tls')!, 'tls.crt'));
  await cp(issued.key, join(secrets.get('/etc/tai/tls')!, 'tls.key'));
  const keygen = await runTai(['log', 'keygen', 'tai.dev/cluster/default', '--out', join(secrets.get('/etc/tai/signing-key')!, 'key')]);
  if (keygen.code !== 0) throw new Error(keygen.err.join('\n'));
  if (redis?.password !== undefined) await writeFile(join(secrets.get('/etc/tai/counters')!, 'auth'), `${redis.password}\n`);
  if (redis?.caFile !== undefined) await cp(redis.caFile, join(secrets.get('/etc/tai/counters')!, 'ca.crt'));
  return { secrets, caPem: ca.caPem };
}

/**
 * Starts pod `name` of the StatefulSet as the kubelet would: its args with `$(VAR)` expanded from its env, each
 * writable volume (the PVC, /tmp) a folder of its own. What differs from a pod, and why: no service account token
 * is mounted here, so --in-cluster becomes a kubeconfig holding that service account's token (the same identity
 * and RBAC); and port 0 instead of 8443.
 */
async function startReplica(name: string, pod: PodContext): Promise<Replica> {
  const c = pod.container;
  const env = containerEnv(c, { name, namespace: 'tai-system' }, pod.objects);
  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, pod.secrets.get(m.mountPath) ?? join(pod.root, name, m.name)]));
  for (const dir of mounts.values()) await mkdir(dir, { recursive: true });
  const args = argsUnderMounts(expandArgs(c.args, env).slice(1), mounts)
    .map((a) => (a === '--in-cluster' ? `--kubeconfig=${pod.kubeconfig}` : a.replace(/^--listen=0\.0\.0\.0:8443$/, '--listen=0.0.0.0:0')));
  const served = await startServe(args, { env: { ...process.env, ...env }, cwd: pod.workdir });
  return { name, served, base: served.url.replace('0.0.0.0', '127.0.0.1'), log: join(mounts.get('/var/lib/tai')!, 'log') };
}

/** `objects` with the tai-settings ConfigMap's `counters` set to `url`, as an overlay's configMapGenerator merge would. */
function withCounters(objects: readonly Manifest[], url: string): Manifest[] {
  return objects.map((o) => (o.kind === 'ConfigMap' && o.metadata.name.startsWith('tai-settings-') ? { ...o, data: { ...(o.data as Record<string, string>), counters: url } } : o));
}

test.serial('two of the StatefulSet’s replicas, started as the kubelet would on a Redis with AUTH and TLS, serve with the shipped RBAC and share counters', async (t) => {
  await installTai(cluster);
  const applied = await kubectl(cluster, ['apply', '-f', 'config/samples']);
  t.is(applied.code, 0, applied.stderr);
  const root = await mkdtemp(join(tmpdir(), 'tai-deploy-pod-'));
  const redis = await startRedis({ password: 'memorystore-auth-string', tls: true }); // Memorystore: AUTH, in-transit encryption
  const { secrets, caPem } = await secretFolders(governor(), root, redis);
  const pod: PodContext = { container: governor(), objects: withCounters(objects, redis.url), secrets, kubeconfig: await serviceAccountKubeconfig(cluster), root, workdir: await mkdtemp(join(tmpdir(), 'tai-deploy-cwd-')) };
  const fetchTls = trustingFetch(caPem);
  const replicas: Replica[] = [];
  try {
    for (const name of ['tai-0', 'tai-1']) replicas.push(await startReplica(name, pod));
    for (const r of replicas) {
      const ready = async (): Promise<boolean> => (await fetchTls(`${r.base}/readyz`)).status === 200 && ((await (await fetchTls(`${r.base}/readyz`)).json()) as { counters?: { connected: boolean } }).counters?.connected === true;
      t.true(await eventually(ready, 20_000, 100), `${r.name} ready, counters connected:\n${r.served.stderr.join('\n')}`);
      for (const probe of [pod.container.startupProbe, pod.container.livenessProbe, pod.container.readinessProbe] as Probe[]) t.is((await fetchTls(`${r.base}${probe.httpGet.path}`)).status, 200, `${r.name} ${probe.httpGet.path}`);
    }
    const [tai0, tai1] = replicas as [Replica, Replica];
    const check = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', feature: 'sso' }) };
    t.is((await fetchTls(`${tai0.base}/v1/check`, check)).status, 401);
    await kubectl(cluster, ['create', 'serviceaccount', 'saas-billing', '-n', 'default']);
    const token = await kubectl(cluster, ['create', 'token', 'saas-billing', '-n', 'default']);
    t.is(token.code, 0, token.stderr);
    const headers = { ...check.headers, authorization: `Bearer ${token.stdout.trim()}` };
    const answered = await fetchTls(`${tai0.base}/v1/check`, { ...check, headers });
    t.is(answered.status, 200, await answered.text());
    // globex (starter) has 5 seats: 3 on tai-0, then 3 more on tai-1 would be 6. Counted per replica, both fit.
    const seats = (r: Replica) => fetchTls(`${r.base}/v1/consume`, { method: 'POST', headers, body: JSON.stringify({ tenant: 'globex', metric: 'seats', amount: 3 }) }).then((res) => res.json());
    t.like(await seats(tai0), { allowed: true, used: 3, receipt: { origin: 'tai.dev/cluster/default/tai-0' } });
    t.like(await seats(tai1), { allowed: false, reason: 'QuotaExceeded', used: 3, receipt: { origin: 'tai.dev/cluster/default/tai-1' } });
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'deploy-1', kind: { group: '', version: 'v1', kind: 'Namespace' }, resource: { group: '', version: 'v1', resource: 'namespaces' }, name: 'acme-dev', operation: 'CREATE', userInfo: { username: 'alice' }, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme-dev', labels: { 'tai.dev/tenant': 'acme' } } } } };
    for (const r of replicas) {
      const admitted = await fetchTls(`${r.base}/admission/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(review) });
      t.like(await admitted.json(), { response: { uid: 'deploy-1', allowed: true } }, `${r.name}: the webhook path of config/webhook answers without a token`);
    }
    const lease = JSON.parse((await kubectl(cluster, ['get', 'lease', 'tai-operator', '-n', 'tai-system', '-o', 'json'])).stdout) as { spec: { holderIdentity: string } };
    t.true(['tai-0', 'tai-1'].includes(lease.spec.holderIdentity), 'leader election in the pod’s namespace, as one of the pods');
  } finally {
    await Promise.all(replicas.map((r) => stopServe(r.served)));
    await stopRedis(redis);
  }
  for (const r of replicas) {
    t.is(await r.served.exited, 0, r.name);
    t.is((await readFile(join(r.log, 'checkpoint'), 'utf8')).split('\n')[0], `tai.dev/cluster/default/${r.name}`, 'each log is named by cluster and replica');
    const verified = await runTai(['log', 'verify', r.log, '--vkey', join(secrets.get('/etc/tai/signing-key')!, 'key.pub')]);
    t.is(verified.code, 0, verified.err.join('\n'));
  }
  t.deepEqual(await readdir(pod.workdir), [], 'nothing written outside the volumes');
});

test.serial('config/single-replica’s pod, started as the kubelet would, serves without Redis', async (t) => {
  await installTai(cluster);
  const rendered = await docsOverlay('single-replica');
  const container = podSpecOf(only(rendered, 'StatefulSet', 'tai')).containers[0]!;
  const root = await mkdtemp(join(tmpdir(), 'tai-deploy-single-'));
  const { secrets, caPem } = await secretFolders(container, root);
  const pod: PodContext = { container, objects: rendered, secrets, kubeconfig: await serviceAccountKubeconfig(cluster), root, workdir: await mkdtemp(join(tmpdir(), 'tai-deploy-cwd-')) };
  const fetchTls = trustingFetch(caPem);
  const r = await startReplica('tai-0', pod);
  try {
    t.true(await eventually(async () => (await fetchTls(`${r.base}/readyz`)).status === 200, 20_000, 100), r.served.stderr.join('\n'));
    const ready = (await (await fetchTls(`${r.base}/readyz`)).json()) as Record<string, unknown>;
    t.false('counters' in ready, 'counters in the process: nothing to connect to');
  } finally {
    await stopServe(r.served);
  }
  t.is(await r.served.exited, 0, r.served.stderr.join('\n'));
  t.is((await readFile(join(r.log, 'checkpoint'), 'utf8')).split('\n')[0], 'tai.dev/cluster/default/tai-0');
});

test('Argo CD: the governor syncs before the policy, from paths that exist, and cert-manager’s caBundle is not drift', async (t) => {
  const apps = (await render(cluster, 'config/argocd')).filter((o) => o.kind === 'Application');
  const wave = (name: string): number => Number(only(apps, 'Application', name).metadata.annotations?.['argocd.argoproj.io/sync-wave']);
  t.true(wave('tai') < wave('tai-policy'));
  for (const app of apps) {
    const path = (app.spec as { source: { path: string } }).source.path;
    t.true((await readdir(path)).some((f) => f === 'kustomization.yaml' || f.endsWith('.yaml')), `${app.metadata.name}: ${path}`);
  }
  const ignored = (only(apps, 'Application', 'tai').spec as { ignoreDifferences: Array<{ kind: string; name: string }> }).ignoreDifferences;
  for (const i of ignored) t.truthy(only(objects, i.kind, i.name));
  t.is((only(apps, 'Application', 'tai').spec as { source: { path: string } }).source.path, 'config/default');
});

test('the GKE overlay of docs/deploy.md builds on config/default: image, cluster name and anchoring reach the pod', async (t) => {
  const doc = await readFile('docs/deploy.md', 'utf8');
  const block = /<!-- overlay:gke[^>]*-->\n```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  t.truthy(block, 'the marked block is in docs/deploy.md');
  const dir = await mkdtemp(join(tmpdir(), 'tai-overlay-'));
  await writeFile(join(dir, 'kustomization.yaml'), block!.replace(/https:\/\/github\.com\/\S+\/\/config\/default\S*/, relative(dir, resolve('config/default'))));
  const rendered = await render(cluster, dir);
  const sts = only(rendered, 'StatefulSet', 'tai');
  const c = podSpecOf(sts).containers[0]!;
  t.is(c.image, 'europe-west1-docker.pkg.dev/acme-prod/tai/tai:0.1.0');
  t.deepEqual(c.args.slice(-2), ['--gcs=gs://acme-tai-anchors/prod', '--anchor-retention=2557']);
  const env = containerEnv(c, { name: 'tai-0', namespace: 'tai-system' }, rendered);
  t.is(expandArgs(c.args, env).find((a) => a.startsWith('--origin=')), '--origin=tai.dev/cluster/prod-eu1/tai-0');
  t.is(flag(expandArgs(c.args, env), 'counters'), 'rediss://10.128.0.5:6378', 'the Memorystore endpoint reaches every replica');
  const dry = await kubectl(cluster, ['apply', '--dry-run=client', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [sts] }));
  t.is(dry.code, 0, dry.stderr);
});
