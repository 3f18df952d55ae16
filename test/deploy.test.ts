// config/default as a platform team applies it, on a control plane of this test's own: every base renders, the
// API server accepts every object (server-side dry run), the pod is locked down, its parts name each other, and
// the StatefulSet's container — its args, env and mounts, as the kubelet would start it — comes up against the
// real API server with the shipped RBAC, passes its own probes and asks callers for a token.
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
import { eventually, startServe, stopServe } from './support/served.ts';
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
  const labels = (statefulSet().spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
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

test.serial('the StatefulSet’s container, started as the kubelet would, serves with the shipped RBAC: probes pass, callers need a token', async (t) => {
  await installTai(cluster);
  const applied = await kubectl(cluster, ['apply', '-f', 'config/samples']);
  t.is(applied.code, 0, applied.stderr);
  const c = governor();
  const podName = `${statefulSet().metadata.name}-0`;
  const env = containerEnv(c, { name: podName, namespace: statefulSet().metadata.namespace! }, objects);
  // Each volume a folder of its own; the Secrets' files made as their docs say (keygen; cert-manager's tls.*).
  const root = await mkdtemp(join(tmpdir(), 'tai-deploy-pod-'));
  const mounts = new Map((c.volumeMounts ?? []).map((m) => [m.mountPath, join(root, m.name)]));
  for (const dir of mounts.values()) await mkdir(dir, { recursive: true });
  const ca = makeTestCa('tai-deploy-ca-');
  const issued = ca.issue('webhook', '0a');
  await cp(issued.cert, join(mounts.get('/etc/tai/tls')!, 'tls.crt'));
  await cp(issued.key, join(mounts.get('/etc/tai/tls')!, 'tls.key'));
  t.is((await runTai(['log', 'keygen', 'tai.dev/cluster/default', '--out', join(mounts.get('/etc/tai/signing-key')!, 'key')])).code, 0);
  // What differs from a pod, and why: no service account token is mounted here, so --in-cluster becomes a kubeconfig
  // holding that service account's token (the same identity and RBAC); and port 0 instead of 8443.
  const kubeconfig = await serviceAccountKubeconfig(cluster);
  const args = argsUnderMounts(expandArgs(c.args, env).slice(1), mounts)
    .map((a) => (a === '--in-cluster' ? `--kubeconfig=${kubeconfig}` : a.replace(/^--listen=0\.0\.0\.0:8443$/, '--listen=0.0.0.0:0')));
  const workdir = await mkdtemp(join(tmpdir(), 'tai-deploy-cwd-')); // the image's /app: nothing may be written there
  const served = await startServe(args, { env: { ...process.env, ...env }, cwd: workdir });
  try {
    const base = served.url.replace('0.0.0.0', '127.0.0.1');
    const fetchTls = trustingFetch(ca.caPem);
    t.true(await eventually(async () => (await fetchTls(`${base}/readyz`)).status === 200, 20_000, 100), served.stderr.join('\n'));
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe] as Probe[]) t.is((await fetchTls(`${base}${probe.httpGet.path}`)).status, 200, probe.httpGet.path);
    const check = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tenant: 'acme', feature: 'sso' }) };
    t.is((await fetchTls(`${base}/v1/check`, check)).status, 401);
    await kubectl(cluster, ['create', 'serviceaccount', 'saas-billing', '-n', 'default']);
    const token = await kubectl(cluster, ['create', 'token', 'saas-billing', '-n', 'default']);
    t.is(token.code, 0, token.stderr);
    const answered = await fetchTls(`${base}/v1/check`, { ...check, headers: { ...check.headers, authorization: `Bearer ${token.stdout.trim()}` } });
    t.is(answered.status, 200, await answered.text());
    const review = { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'deploy-1', kind: { group: '', version: 'v1', kind: 'Namespace' }, resource: { group: '', version: 'v1', resource: 'namespaces' }, name: 'acme-dev', operation: 'CREATE', userInfo: { username: 'alice' }, object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'acme-dev', labels: { 'tai.dev/tenant': 'acme' } } } } };
    const admitted = await fetchTls(`${base}/admission/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(review) });
    t.like(await admitted.json(), { response: { uid: 'deploy-1', allowed: true } }, 'the webhook path of config/webhook answers without a token');
    const lease = JSON.parse((await kubectl(cluster, ['get', 'lease', 'tai-operator', '-n', 'tai-system', '-o', 'json'])).stdout) as { spec: { holderIdentity: string } };
    t.is(lease.spec.holderIdentity, podName, 'leader election in the pod’s namespace, as the pod');
  } finally {
    await stopServe(served);
  }
  t.is(await served.exited, 0);
  const log = join(mounts.get('/var/lib/tai')!, 'log');
  t.is((await readFile(join(log, 'checkpoint'), 'utf8')).split('\n')[0], `tai.dev/cluster/default/${podName}`, 'the log is named by cluster and replica');
  const verified = await runTai(['log', 'verify', log, '--vkey', join(mounts.get('/etc/tai/signing-key')!, 'key.pub')]);
  t.is(verified.code, 0, verified.err.join('\n'));
  t.deepEqual(await readdir(workdir), [], 'nothing written outside the volumes');
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
  const dry = await kubectl(cluster, ['apply', '--dry-run=client', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [sts] }));
  t.is(dry.code, 0, dry.stderr);
});
