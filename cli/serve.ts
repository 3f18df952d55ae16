import { EXIT, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { hostname } from 'node:os';
import { flagsHelp, parseFlags, type FlagTable } from './flags.ts';
import { predecessorOf } from './serve-succession.ts';
import type { Durability } from '../receipts/store/index.ts';
import type { CountersConfig } from '../counters/index.ts';
import {
  clusterFeed,
  DEFAULT_HTTP_LIMITS,
  DEFAULT_LOG_DIR,
  folderFeed,
  gcsBucket,
  isLoopback,
  parseListen,
  signingKeyPathFor,
  startServer,
  type AnchorConfig,
  type AuthConfig,
  type HttpLimits,
  type ServerOptions,
  type TlsPaths,
} from '../server/index.ts';

/** serve's options, in --help order. */
const SERVE_FLAGS = {
  from: { type: 'string', arg: 'DIR', help: [
    'folder of policy YAML (embedded mode); may be a Kubernetes ConfigMap or Secret volume',
    "(kubelet's ..data entries are skipped, its ..data swap is a reload)",
  ] },
  'poll-interval': { type: 'string', arg: 'S', help: [
    'embedded mode: also re-read DIR every S seconds (default 0: off), reloading only when its',
    'files changed; for mounts whose changes raise no file events (Cloud Storage FUSE, NFS)',
  ] },
  kubeconfig: { type: 'string', arg: 'PATH', help: "cluster mode against the cluster of PATH's current context" },
  'in-cluster': { type: 'boolean', help: "cluster mode with the pod's service account" },
  'lease-namespace': { type: 'string', arg: 'NS', help: 'namespace of the leader Lease (default $POD_NAMESPACE, else default)' },
  'lease-name': { type: 'string', arg: 'NAME', help: 'the leader Lease (default tai-operator)' },
  'lease-duration': { type: 'string', arg: 'S', help: 'seconds a Lease holds without renewal (default 15); a new leader within that' },
  identity: { type: 'string', arg: 'ID', help: 'this replica in the Lease and in Events (default HOSTNAME-PID)' },
  listen: { type: 'string', arg: 'HOST:PORT', help: 'where to listen (default 127.0.0.1:8080; loopback only without authentication)' },
  'tls-cert': { type: 'string', arg: 'PATH', help: 'serve HTTPS with this PEM certificate (chain); reloaded when it changes on disk' },
  'tls-key': { type: 'string', arg: 'PATH', help: 'its PEM private key' },
  auth: { type: 'string', arg: 'MODE', help: [
    'none | tokenreview | token-file (default: token-file with --token-file, tokenreview in',
    'cluster mode, none in embedded mode)',
  ] },
  'token-file': { type: 'string', arg: 'PATH', help: 'bearer tokens, one per line: token,user,uid,"group1,group2" (reloaded on change)' },
  'token-audience': { type: 'string', arg: 'AUD', help: "TokenReview: the audience tokens must be meant for (default the API server's)" },
  'request-timeout': { type: 'string', arg: 'S', help: [
    'seconds a client has to send a whole request, headers and body (default 30); a slower one',
    "is answered 408 and its connection closed (Node's own default is 300)",
  ] },
  'headers-timeout': { type: 'string', arg: 'S', help: 'seconds to send the request headers (default 10; at most --request-timeout)' },
  'keep-alive-timeout': { type: 'string', arg: 'S', help: 'seconds an idle kept-alive connection stays open (default 5)' },
  'max-connections': { type: 'string', arg: 'N', help: 'open connections at once (default 1024); more are dropped as they arrive' },
  'log-format': { type: 'string', arg: 'FORMAT', help: "text (default) or json (one JSON line per event, Cloud Logging's severity and message)" },
  log: { type: 'string', arg: 'DIR', help: 'the receipt log (default ./.tai/log)' },
  durability: { type: 'string', arg: 'MODE', help: [
    'sync (default): answer after the receipt is on disk; async: answer at once,',
    'written within 50 ms. While the log cannot write (a full disk, an I/O error) decisions',
    'answer 503 and /readyz is not ready; writing is retried until it succeeds (docs/adr/0010).',
    'A stop that leaves receipts unwritten exits 1 with one line saying what',
  ] },
  key: { type: 'string', arg: 'PATH', help: [
    'checkpoint signing key, a signed-note signer key (default signing.key beside the --log',
    'folder: ./.tai/signing.key for ./.tai/log; made on first start unless the log already',
    'holds a checkpoint; its verifier key is printed and written to PATH.pub). tai log and',
    'tai audit look for it, and PATH.pub, in the same place',
  ] },
  origin: { type: 'string', arg: 'NAME', help: [
    "the log's checkpoint origin (default tai.dev/embedded/HOSTNAME or tai.dev/cluster/HOSTNAME);",
    '{log} in NAME is an id made with the --log folder (kept in LOG/log-id), for disks that',
    'die with the instance (Cloud Run): each new log gets a name no other log has used',
  ] },
  'state-every': { type: 'string', arg: 'N', help: 'entries between saves of LOG/state.json, which bounds replay at start (default 10000)' },
  gcs: { type: 'string', arg: 'gs://B/P', help: [
    'anchor the log in Cloud Storage under gs://B/P/ORIGIN/: new tiles, entry bundles and the',
    'signed checkpoint as immutable objects (plus checkpoints/SIZE per anchored size), credentials',
    'from Application Default Credentials (Workload Identity on GKE, the service identity on',
    'Cloud Run). Outages queue work, nothing is lost; lag is in /readyz and /metrics',
  ] },
  'gcs-endpoint': { type: 'string', arg: 'URL', help: "a Cloud Storage emulator (fake-gcs-server) instead of Google's, without credentials" },
  'anchor-interval': { type: 'string', arg: 'S', help: 'seconds between anchoring passes (default 10)' },
  succeeds: { type: 'string', arg: 'LOG|previous', help: [
    'a new log (an empty --log folder) succeeds LOG (DIR, URL or gs://B/P/ORIGIN): its first entry',
    "records LOG's origin and latest checkpoint, so tai log verify over the deployment finds a",
    'missing log. previous, with --gcs and an --origin with {log}: the latest earlier such log',
  ] },
  'anchor-retention': { type: 'string', arg: 'D', help: [
    'lock every immutable anchor object for D days (GCS Object Retention Lock; the bucket must',
    'be created with it enabled); see docs/gcs.md',
  ] },
  counters: { type: 'string', arg: 'URL', help: [
    'share usage, rate buckets, threshold marks and idempotency keys with the other replicas in',
    'Redis or Valkey (Memorystore): redis://HOST:PORT[/DB], rediss:// for TLS. Each replica keeps',
    'its own log; while the store is unreachable hard quotas deny, the rest allow (CountersUnavailable)',
  ] },
  'counters-password-file': { type: 'string', arg: 'PATH', help: "a file holding the store's AUTH password (Memorystore's AUTH string)" },
  'counters-ca-file': { type: 'string', arg: 'PATH', help: "PEM CA bundle for rediss:// (Memorystore's server CA; default: the system's)" },
  'counters-timeout': { type: 'string', arg: 'MS', help: 'ms a call to the store may take before the decision follows the unavailability policy (default 250)' },
} as const satisfies FlagTable;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the governor: decision API and health endpoints, every decision recorded',
  flags: SERVE_FLAGS,
  usage: `Usage: tai serve --from DIR [--poll-interval S] | --kubeconfig PATH | --in-cluster [--listen HOST:PORT]
                 [--tls-cert PATH --tls-key PATH] [--auth none|tokenreview|token-file] [--token-file PATH]
                 [--log DIR] [--durability sync|async]
                 [--gcs gs://BUCKET/PREFIX [--gcs-endpoint URL] [--anchor-interval S] [--anchor-retention D]]
                 [--succeeds DIR|URL|gs://BUCKET/PREFIX/ORIGIN|previous]
                 [--counters redis://HOST:PORT [--counters-password-file PATH] [--counters-ca-file PATH] [--counters-timeout MS]]

Embedded mode (--from): loads SKU, Tenant and Quota YAML from DIR, watches it (a saved edit is enforced within a
second; a broken file is reported with file, line and field path while the last good state keeps serving)
and answers the decision API: POST /v1/check, /v1/consume, /v1/rate, /v1/batch,
GET /v1/tenants/NAME/entitlements[?explain=1], /healthz, /readyz.
Every decision and every change of a tenant's effective entitlements is a receipt in the log; answers carry
{index, leafHash}. Usage and idempotency keys are rebuilt from the log at start.

Cluster mode (--kubeconfig, or --in-cluster; the default when KUBERNETES_SERVICE_HOST is set): the operator
lists and watches SKUs, Tenants, Quotas, Namespaces, Pods, Services and PVCs; every replica keeps a hot
governor; the replica holding the leader Lease writes status and Events. /readyz reports how stale the
policy is while the API server is unreachable; the last state keeps serving. It also answers the API
server's admission webhook at POST /admission/validate (config/webhook), which needs HTTPS: --tls-cert/--tls-key.

Decision API callers (/v1/*) authenticate with bearer tokens: checked by Kubernetes TokenReview (the default in
cluster mode) or listed in a token file (--token-file, the Kubernetes static token file format). Without
authentication (--auth none, the default in embedded mode) the server listens on loopback only. /healthz,
/readyz, /metrics, /openapi.json, /log/… and the admission webhook need no token.
Options:
${flagsHelp(SERVE_FLAGS, 22)}
The log is published in the C2SP tlog-tiles layout in the --log folder and at GET /log/checkpoint, /log/tile/….`,
  async run(argv, io) {
    const { values, positionals } = parseFlags(argv, SERVE_FLAGS);
    if (values.help) return (io.out(this.usage), EXIT.ok);
    const options = { ...serveOptions(values, positionals), predecessor: predecessorOf(values, io) };
    const stopped = waitForSignal(); // before listening, so a signal during start-up still stops cleanly
    const running = await startServer({ ...options, clock: { now: () => Date.now() }, io }).catch(systemErrorLine(io, 'cannot start'));
    if (running === undefined) return EXIT.finding;
    await stopped;
    const outcome = await running.stop().catch((e: unknown) => ({ clean: false as const, reason: `stopping failed: ${(e as Error).message}` }));
    if (outcome.clean) return EXIT.ok;
    io.err(`tai serve: stopped with a failure: ${outcome.reason}`);
    return EXIT.finding;
  },
};

/**
 * A system error (a full disk, an I/O error: anything with an errno code) ends `serve` with one line, exit 1;
 * anything else propagates (a bug, with its stack). Path errors stay usage errors (tai.ts).
 */
function systemErrorLine(io: CommandIO, what: string): (e: unknown) => undefined {
  return (e) => {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string' || PATH_ERRORS.has(code)) throw e;
    io.err(`tai serve: ${what}: ${(e as Error).message}`);
    return undefined;
  };
}

const PATH_ERRORS = new Set(['ENOENT', 'EACCES', 'ENOTDIR', 'EISDIR']);

/** Checks the flags; every mistake is a UsageError naming the flag. */
function serveOptions(values: Record<string, unknown>, positionals: string[]): Omit<ServerOptions, 'clock' | 'io'> {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const listen = parseListen(stringOption(values, 'listen') ?? '127.0.0.1:8080');
  const mode = modeOf(values);
  const auth = authOf(values, mode.cluster);
  if (auth.mode === 'none' && !isLoopback(listen.host)) {
    throw new UsageError(`--listen: without authentication the decision API serves loopback only (127.0.0.1, ::1), not ${listen.host}; use --auth tokenreview or --token-file`);
  }
  const logFormat = stringOption(values, 'log-format') ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format: expected text or json, got ${JSON.stringify(logFormat)}`);
  return { listen, durability: durabilityOf(values), feed: mode.feed, tls: tlsOf(values), httpLimits: httpLimitsOf(values), auth, logFormat, anchor: anchorOf(values), counters: countersOf(values), ...logOptions(values, mode.origin) };
}

/** --request-timeout, --headers-timeout, --keep-alive-timeout (seconds) and --max-connections over the defaults. */
function httpLimitsOf(values: Record<string, unknown>): HttpLimits {
  const seconds = (flag: string, fallbackMs: number): number => {
    const s = positiveInteger(values, flag);
    return s === undefined ? fallbackMs : s * 1000;
  };
  const limits: HttpLimits = {
    requestTimeoutMs: seconds('request-timeout', DEFAULT_HTTP_LIMITS.requestTimeoutMs),
    headersTimeoutMs: seconds('headers-timeout', DEFAULT_HTTP_LIMITS.headersTimeoutMs),
    keepAliveTimeoutMs: seconds('keep-alive-timeout', DEFAULT_HTTP_LIMITS.keepAliveTimeoutMs),
    maxConnections: positiveInteger(values, 'max-connections') ?? DEFAULT_HTTP_LIMITS.maxConnections,
  };
  if (values['headers-timeout'] !== undefined && limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new UsageError(`--headers-timeout ${limits.headersTimeoutMs / 1000} is longer than --request-timeout ${limits.requestTimeoutMs / 1000}: the headers are part of the request`);
  }
  return limits;
}

function anchorOf(values: Record<string, unknown>): AnchorConfig | undefined {
  const url = stringOption(values, 'gcs');
  const endpoint = stringOption(values, 'gcs-endpoint');
  const interval = positiveInteger(values, 'anchor-interval');
  const retentionDays = positiveInteger(values, 'anchor-retention');
  if (url === undefined) {
    const stray = ['gcs-endpoint', 'anchor-interval', 'anchor-retention'].find((flag) => values[flag] !== undefined);
    if (stray) throw new UsageError(`--${stray} goes with --gcs gs://BUCKET/PREFIX`);
    return undefined;
  }
  gcsBucket(url, endpoint); // checks the URL and endpoint now, as usage errors
  return { url, endpoint, intervalMs: (interval ?? 10) * 1000, retentionDays };
}

/** Default bound on one call to the shared counters: well under a caller's timeout, above a zone's round trips. */
const COUNTERS_TIMEOUT_MS = 250;

function countersOf(values: Record<string, unknown>): CountersConfig | undefined {
  const url = stringOption(values, 'counters');
  const related = ['counters-password-file', 'counters-ca-file', 'counters-timeout'];
  if (url === undefined) {
    const stray = related.find((flag) => values[flag] !== undefined);
    if (stray) throw new UsageError(`--${stray} goes with --counters redis://HOST:PORT`);
    return undefined;
  }
  if (!/^rediss?:\/\/[^/]+(\/\d+)?$/.test(url)) throw new UsageError(`--counters: expected redis://HOST:PORT[/DB] or rediss://HOST:PORT[/DB], got ${JSON.stringify(url)}`);
  const caFile = stringOption(values, 'counters-ca-file');
  if (caFile !== undefined && !url.startsWith('rediss://')) throw new UsageError('--counters-ca-file goes with rediss:// (TLS)');
  return { url, passwordFile: stringOption(values, 'counters-password-file'), caFile, timeoutMs: positiveInteger(values, 'counters-timeout') ?? COUNTERS_TIMEOUT_MS };
}

function tlsOf(values: Record<string, unknown>): TlsPaths | undefined {
  const certPath = stringOption(values, 'tls-cert');
  const keyPath = stringOption(values, 'tls-key');
  if ((certPath === undefined) !== (keyPath === undefined)) throw new UsageError('--tls-cert and --tls-key go together: give both PEM files, or neither for plain HTTP');
  return certPath && keyPath ? { certPath, keyPath } : undefined;
}

function authOf(values: Record<string, unknown>, cluster: boolean): AuthConfig {
  const tokenFile = stringOption(values, 'token-file');
  const audience = stringOption(values, 'token-audience');
  const mode = stringOption(values, 'auth') ?? (tokenFile ? 'token-file' : cluster ? 'tokenreview' : 'none');
  if (mode === 'token-file' || tokenFile) return tokenFileAuth(mode, tokenFile);
  if (mode === 'tokenreview') {
    if (!cluster) throw new UsageError('--auth tokenreview needs cluster mode (--kubeconfig or --in-cluster); in embedded mode use --token-file');
    return { mode, audiences: audience ? [audience] : undefined };
  }
  if (mode !== 'none') throw new UsageError(`--auth: expected none, tokenreview or token-file, got ${JSON.stringify(mode)}`);
  return { mode };
}

/** --auth token-file and --token-file go together. */
function tokenFileAuth(mode: string, tokenFile: string | undefined): AuthConfig {
  if (!tokenFile) throw new UsageError('--auth token-file needs --token-file PATH');
  if (mode !== 'token-file') throw new UsageError(`--token-file is used only with --auth token-file, not ${mode}`);
  return { mode, path: tokenFile };
}

/** Embedded (--from) or cluster (--kubeconfig, --in-cluster, or a pod's environment): exactly one. */
function modeOf(values: Record<string, unknown>): Pick<ServerOptions, 'feed'> & { origin: string; cluster: boolean } {
  const from = stringOption(values, 'from');
  const kubeconfig = stringOption(values, 'kubeconfig');
  const inCluster = values['in-cluster'] === true;
  if ([from, kubeconfig, inCluster || undefined].filter((v) => v !== undefined).length > 1) throw new UsageError('use one of --from DIR, --kubeconfig PATH and --in-cluster');
  const pollMs = pollIntervalMs(values, from);
  if (from) return { feed: folderFeed(from, { pollMs }), origin: `tai.dev/embedded/${hostname()}`, cluster: false };
  if (!kubeconfig && !inCluster && !process.env.KUBERNETES_SERVICE_HOST) throw new UsageError('say where policy comes from: --from DIR (embedded) or --kubeconfig PATH / --in-cluster (cluster)');
  const lease = leaseOf(values);
  const identity = stringOption(values, 'identity') ?? `${hostname()}-${process.pid}`;
  return { feed: clusterFeed({ kubeconfig, identity, lease }), origin: `tai.dev/cluster/${hostname()}`, cluster: true };
}

/** --poll-interval S: whole seconds, 0 (the default) turning the poll off; embedded mode only. */
function pollIntervalMs(values: Record<string, unknown>, from: string | undefined): number {
  const text = stringOption(values, 'poll-interval');
  if (text === undefined) return 0;
  if (!from) throw new UsageError("--poll-interval goes with --from DIR (embedded mode); cluster mode follows the API server's watch");
  if (!/^\d+$/.test(text) || Number(text) > MAX_POLL_INTERVAL_S) {
    throw new UsageError(`--poll-interval: expected whole seconds from 0 (off) to ${MAX_POLL_INTERVAL_S}, got ${JSON.stringify(text)}`);
  }
  return Number(text) * 1000;
}

/** A day: far below setTimeout's limit of about 24.8 days, far above any useful poll. */
const MAX_POLL_INTERVAL_S = 86_400;

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
  const logDir = stringOption(values, 'log') ?? DEFAULT_LOG_DIR;
  return {
    logDir,
    keyPath: stringOption(values, 'key') ?? signingKeyPathFor(logDir),
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
