import { serve as serveHttp, type ServerType } from '@hono/node-server';
import { CompiledPolicy, Governor, PolicyCompiler, type Clock } from '../governor/index.ts';
import { createApp } from '../webhook/app.ts';
import { EmbeddedPolicy, type LoadReport } from './embedded-policy.ts';
import { EXIT, parseCommandArgs, stringOption, UsageError, type Command, type CommandIO } from './io.ts';
import { isLoopback, parseListen, type ListenAddress } from './listen.ts';

/** Flags of design §7 that later parts of TAI implement; refused with a clear message until then. */
const NOT_YET: Record<string, string> = {
  kubeconfig: 'cluster mode (the operator) is not in this build yet; use --from DIR',
  log: 'the receipt log is not in this build yet',
  durability: 'the receipt log is not in this build yet',
  key: 'checkpoint signing is not in this build yet',
  'tls-cert': 'TLS is not in this build yet',
  'tls-key': 'TLS is not in this build yet',
  gcs: 'GCS anchoring is not in this build yet',
  'gcs-endpoint': 'GCS anchoring is not in this build yet',
};

export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the governor: decision API and health endpoints',
  usage: `Usage: tai serve --from DIR [--listen HOST:PORT]

Embedded mode: loads SKU, Tenant and Quota YAML from DIR, watches it (a saved edit is enforced within a
second; a broken file is reported with file, line and field path while the last good state keeps serving)
and answers the decision API: POST /v1/check, /v1/consume, /v1/rate, /v1/batch,
GET /v1/tenants/NAME/entitlements[?explain=1], /healthz, /readyz.
Options:
  --from DIR            folder of policy YAML (embedded mode)
  --listen HOST:PORT    where to listen (default 127.0.0.1:8080; embedded mode is loopback only)
Planned, refused for now: --kubeconfig, --log, --durability, --key, --tls-cert, --tls-key, --gcs, --gcs-endpoint.`,
  async run(argv, io) {
    const options = Object.fromEntries(Object.keys(NOT_YET).map((k) => [k, { type: 'string' as const }]));
    const { values, positionals } = parseCommandArgs(argv, { from: { type: 'string' }, listen: { type: 'string' }, ...options });
    if (values.help) return (io.out(this.usage), EXIT.ok);
    for (const [flag, why] of Object.entries(NOT_YET)) if (values[flag] !== undefined) throw new UsageError(`--${flag}: ${why}`);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const from = stringOption(values, 'from');
    if (!from) throw new UsageError('--from DIR is required (cluster mode is not in this build yet)');
    const listen = parseListen(stringOption(values, 'listen') ?? '127.0.0.1:8080');
    if (!isLoopback(listen.host)) throw new UsageError(`--listen: embedded mode serves loopback only (127.0.0.1, ::1), not ${listen.host}`);
    const stopped = waitForSignal(); // before listening, so a signal during start-up still stops cleanly
    const running = await startEmbedded({ from, listen, clock: { now: () => Date.now() }, io });
    await stopped;
    await running.stop();
    return EXIT.ok;
  },
};

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts embedded mode; returns once it listens. Used by `serve` and by the end-to-end tests. */
export async function startEmbedded(opts: { from: string; listen: ListenAddress; clock: Clock; io: CommandIO }): Promise<RunningServer> {
  const { io, clock } = opts;
  const compiler = new PolicyCompiler();
  const policy = new EmbeddedPolicy({ dir: opts.from, compiler, clock });
  const governor = new Governor({
    policy: new CompiledPolicy(compiler),
    clock,
    onThreshold: (e) => io.out(`tai: threshold: tenant ${e.tenant} ${e.metric} crossed ${e.threshold}% (${e.used}/${e.limit})`),
  });
  const first = await policy.load();
  printReport(first, io);
  const unwatch = policy.watch(
    (report) => printReport(report, io),
    (error) => io.err(`tai: reload failed, the last good state keeps serving: ${(error as Error).stack ?? String(error)}`),
  );
  const app = createApp({
    governor,
    tenant: (name) => new CompiledPolicy(compiler).tenant(name, clock.now()),
    readiness: () => policy.readiness(),
    onError: (error, path) => io.err(`tai: internal error on ${path}: ${(error as Error).stack ?? String(error)}`),
  });
  const server = await listen(app.fetch, opts.listen);
  const url = `http://${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host}:${addressPort(server)}`;
  io.out(`tai: serving decisions on ${url} (embedded, policy from ${opts.from}, watching for changes)`);
  return {
    url,
    stop: async () => {
      unwatch();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function printReport(r: LoadReport, io: CommandIO): void {
  io.out(`tai: policy generation ${r.snapshot.generation}: ${r.counts.SKU} SKUs, ${r.counts.Tenant} tenants, ${r.counts.Quota} quotas (${r.changed} changed)`);
  for (const p of r.problems) io.err(`tai: ${p}`);
  if (r.problems.length > 0) io.err(`tai: ${r.problems.length} problem(s): the last good state of the affected resources keeps serving`);
}

function listen(fetch: (req: Request) => Response | Promise<Response>, at: ListenAddress): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serveHttp({ fetch, hostname: at.host, port: at.port }, () => resolve(server));
    server.once('error', reject);
  });
}

function addressPort(server: ServerType): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
