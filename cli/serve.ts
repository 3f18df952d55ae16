import { EXIT, parseCommandArgs, stringOption, UsageError, type Command } from './io.ts';
import { hostname } from 'node:os';
import type { Durability } from '../receipts/store/index.ts';
import { clusterFeed } from './cluster-feed.ts';
import { folderFeed } from './embedded-feed.ts';
import { startServer, type ServerOptions } from './governor-server.ts';
import { isLoopback, parseListen } from './listen.ts';

/** Flags of design §7 that later parts of TAI implement; refused with a clear message until then. */
const NOT_YET: Record<string, string> = {
  'tls-cert': 'TLS is not in this build yet',
  'tls-key': 'TLS is not in this build yet',
  gcs: 'GCS anchoring is not in this build yet',
  'gcs-endpoint': 'GCS anchoring is not in this build yet',
};

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the governor: decision API and health endpoints, every decision recorded',
  usage: `Usage: tai serve --from DIR | --kubeconfig PATH | --in-cluster [--listen HOST:PORT] [--log DIR] [--durability sync|async]

Embedded mode (--from): loads SKU, Tenant and Quota YAML from DIR, watches it (a saved edit is enforced within a
second; a broken file is reported with file, line and field path while the last good state keeps serving)
and answers the decision API: POST /v1/check, /v1/consume, /v1/rate, /v1/batch,
GET /v1/tenants/NAME/entitlements[?explain=1], /healthz, /readyz.
Every decision and every change of a tenant's effective entitlements is a receipt in the log; answers carry
{index, leafHash}. Usage and idempotency keys are rebuilt from the log at start.

Cluster mode (--kubeconfig, or --in-cluster; the default when KUBERNETES_SERVICE_HOST is set): the operator
lists and watches SKUs, Tenants, Quotas, Namespaces, Pods, Services and PVCs; every replica keeps a hot
governor; the replica holding the leader Lease writes status and Events. /readyz reports how stale the
policy is while the API server is unreachable; the last state keeps serving.
Options:
  --from DIR            folder of policy YAML (embedded mode)
  --kubeconfig PATH     cluster mode against the cluster of PATH's current context
  --in-cluster          cluster mode with the pod's service account
  --lease-namespace NS  namespace of the leader Lease (default $POD_NAMESPACE, else default)
  --lease-name NAME     the leader Lease (default tai-operator)
  --lease-duration S    seconds a Lease holds without renewal (default 15); a new leader within that
  --identity ID         this replica in the Lease and in Events (default HOSTNAME-PID)
  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; embedded mode is loopback only)
  --log DIR             the receipt log (default ./.tai/log)
  --durability MODE     sync (default): answer after the receipt is on disk; async: answer at once,
                        written within 50 ms
  --key PATH            checkpoint signing key, a signed-note signer key (default ./.tai/signing.key,
                        made on first start; its verifier key is printed and written to PATH.pub)
  --origin NAME         the log's checkpoint origin (default tai.dev/embedded/HOSTNAME or tai.dev/cluster/HOSTNAME)
  --state-every N       entries between saves of LOG/state.json, which bounds replay at start (default 10000)
The log is published in the C2SP tlog-tiles layout in the --log folder and at GET /log/checkpoint, /log/tile/….
The decision API has no authentication yet, so every mode listens on loopback only.
Planned, refused for now: --tls-cert, --tls-key, --gcs, --gcs-endpoint.`,
  async run(argv, io) {
    const planned = Object.fromEntries(Object.keys(NOT_YET).map((k) => [k, { type: 'string' as const }]));
    const { values, positionals } = parseCommandArgs(argv, {
      from: { type: 'string' },
      kubeconfig: { type: 'string' },
      'in-cluster': { type: 'boolean' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      identity: { type: 'string' },
      listen: { type: 'string' },
      log: { type: 'string' },
      durability: { type: 'string' },
      key: { type: 'string' },
      origin: { type: 'string' },
      'state-every': { type: 'string' },
      ...planned,
    });
    if (values.help) return (io.out(this.usage), EXIT.ok);
    const options = serveOptions(values, positionals);
    const stopped = waitForSignal(); // before listening, so a signal during start-up still stops cleanly
    const running = await startServer({ ...options, clock: { now: () => Date.now() }, io });
    await stopped;
    await running.stop();
    return EXIT.ok;
  },
};

/** Checks the flags; every mistake is a UsageError naming the flag. */
function serveOptions(values: Record<string, unknown>, positionals: string[]): Omit<ServerOptions, 'clock' | 'io'> {
  for (const [flag, why] of Object.entries(NOT_YET)) if (values[flag] !== undefined) throw new UsageError(`--${flag}: ${why}`);
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = parseListen(stringOption(values, 'listen') ?? '127.0.0.1:8080');
  if (!isLoopback(listen.host)) throw new UsageError(`--listen: the decision API has no authentication yet, so it serves loopback only (127.0.0.1, ::1), not ${listen.host}`);
  const mode = modeOf(values);
  return { listen, durability: durabilityOf(values), ...mode, ...logOptions(values, mode.origin) };
}

/** Embedded (--from) or cluster (--kubeconfig, --in-cluster, or a pod's environment): exactly one. */
function modeOf(values: Record<string, unknown>): Pick<ServerOptions, 'feed'> & { origin: string } {
  const from = stringOption(values, 'from');
  const kubeconfig = stringOption(values, 'kubeconfig');
  const inCluster = values['in-cluster'] === true;
  if ([from, kubeconfig, inCluster || undefined].filter((v) => v !== undefined).length > 1) throw new UsageError('use one of --from DIR, --kubeconfig PATH and --in-cluster');
  if (from) return { feed: folderFeed(from), origin: `tai.dev/embedded/${hostname()}` };
  if (!kubeconfig && !inCluster && !process.env.KUBERNETES_SERVICE_HOST) throw new UsageError('say where policy comes from: --from DIR (embedded) or --kubeconfig PATH / --in-cluster (cluster)');
  const lease = leaseOf(values);
  const identity = stringOption(values, 'identity') ?? `${hostname()}-${process.pid}`;
  return { feed: clusterFeed({ kubeconfig, identity, lease }), origin: `tai.dev/cluster/${hostname()}` };
}

function leaseOf(values: Record<string, unknown>): { namespace: string; name: string; durationMs: number; renewDeadlineMs: number; retryPeriodMs: number } {
  const ms = (positiveInteger(values, 'lease-duration') ?? 15) * 1000;
  return {
    namespace: stringOption(values, 'lease-namespace') ?? process.env.POD_NAMESPACE ?? 'default',
    name: stringOption(values, 'lease-name') ?? 'tai-operator',
    durationMs: ms,
    // client-go's proportions: renew within 2/3 of the lease, retry every 2/15 of it.
    renewDeadlineMs: Math.round((ms * 2) / 3),
    retryPeriodMs: Math.max(200, Math.round((ms * 2) / 15)),
  };
}

function logOptions(values: Record<string, unknown>, origin: string): Pick<ServerOptions, 'logDir' | 'keyPath' | 'origin' | 'stateEvery'> {
  return {
    logDir: stringOption(values, 'log') ?? '.tai/log',
    keyPath: stringOption(values, 'key') ?? '.tai/signing.key',
    origin: stringOption(values, 'origin') ?? origin,
    stateEvery: positiveInteger(values, 'state-every') ?? 10_000,
  };
}

function positiveInteger(values: Record<string, unknown>, flag: string): number | undefined {
  const text = stringOption(values, flag);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--${flag}: expected a whole number ≥ 1, got ${JSON.stringify(text)}`);
  return n;
}

function durabilityOf(values: Record<string, unknown>): Durability {
  const durability = stringOption(values, 'durability') ?? 'sync';
  if (durability !== 'sync' && durability !== 'async') throw new UsageError(`--durability: expected sync or async, got ${JSON.stringify(durability)}`);
  return durability;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
