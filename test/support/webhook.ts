import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { Agent, fetch as undiciFetch } from 'undici';
import { kubectl, type Cluster } from './cluster.ts';
import { eventually } from './served.ts';

/**
 * Registers config/webhook's ValidatingWebhookConfiguration — its rules, selectors, timeouts and failure
 * policy as shipped — with each webhook's clientConfig pointed at `url` and trusting `caPem`, the way a
 * webhook outside the cluster is reached (clientConfig.url + caBundle). Resolves once the API server calls it.
 */
export async function registerWebhook(c: Cluster, url: string, caPem: string): Promise<void> {
  const [config] = parseAllDocuments(await readFile('config/webhook/manifests.yaml', 'utf8')).map((d) => d.toJS() as { webhooks: Array<Record<string, unknown>> });
  for (const w of config!.webhooks) w.clientConfig = { url: `${url}/admission/validate`, caBundle: Buffer.from(caPem).toString('base64') };
  const applied = await kubectl(c, ['apply', '-f', '-'], JSON.stringify(config));
  if (applied.code !== 0) throw new Error(`registering the webhook: ${applied.stderr}`);
  const probe = JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'webhook-probe', labels: { 'tai.dev/tenant': 'no-such-tenant' } } });
  const live = await eventually(async () => (await kubectl(c, ['create', '--dry-run=server', '-f', '-'], probe)).stderr.includes('UnknownTenant'), 30_000, 200);
  if (!live) throw new Error('the API server never called the webhook');
}

/** fetch over HTTPS trusting only the test CA. */
export function trustingFetch(caPem: string): (url: string, init?: { method?: string; headers?: Record<string, string>; body?: string }) => Promise<{ status: number; headers: Headers; text(): Promise<string>; json(): Promise<unknown> }> {
  const dispatcher = new Agent({ connect: { ca: caPem } });
  return (url, init = {}) => undiciFetch(url, { ...init, dispatcher }) as never;
}
