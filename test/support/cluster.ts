import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KubeClient, loadKubeConfig } from '../../kube/index.ts';

/** A local control plane started by hack/cluster-up.sh: where its kubeconfig is, and kubectl to drive it. */
export interface Cluster {
  dir: string;
  kubeconfig: string;
  kubectlPath: string;
  env: Record<string, string>;
  api: KubeClient;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = resolve(import.meta.dirname, '../..');

/**
 * Brings up (or reuses) the control plane whose state lives in `dir` (default: .tai/cluster, the one
 * `npm run cluster:up` starts). Idempotent: a running one is reused; a killed kube-apiserver is restarted.
 */
export async function clusterUp(dir = join(ROOT, '.tai/cluster')): Promise<Cluster> {
  await run('bash', [join(ROOT, 'hack/cluster-up.sh')], { TAI_CLUSTER_DIR: dir });
  const env = Object.fromEntries(
    (await readFile(join(dir, 'env'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const kubeconfig = join(dir, 'kubeconfig');
  return { dir, kubeconfig, kubectlPath: env.TAI_KUBECTL!, env, api: new KubeClient(loadKubeConfig(kubeconfig)) };
}

/** Stops the control plane in `dir` (and deletes its state with `purge`). */
export async function clusterDown(dir: string, purge = false): Promise<void> {
  await run('sh', [join(ROOT, 'hack/cluster-down.sh'), ...(purge ? ['--purge'] : [])], { TAI_CLUSTER_DIR: dir });
}

/** Runs kubectl against the cluster; never throws for a non-zero exit (tests assert on it). */
export function kubectl(c: Cluster, args: readonly string[], input?: string): Promise<KubectlResult> {
  return new Promise((done) => {
    const child = spawn(c.kubectlPath, ['--kubeconfig', c.kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('close', (code) => done({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** The PID of one of the cluster's processes (`kube-apiserver` or `etcd`). */
export async function pidOf(c: Cluster, name: 'kube-apiserver' | 'etcd'): Promise<number> {
  return Number((await readFile(join(c.dir, `${name}.pid`), 'utf8')).trim());
}

function run(cmd: string, args: readonly string[], env: Record<string, string>): Promise<string> {
  return new Promise((done, fail) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else done(stdout);
    });
  });
}
