import { serve as serveHttp, type ServerType } from '@hono/node-server';
import { CompiledPolicy, Governor, MemoryUsageStore, PolicyCompiler, type Clock } from '../governor/index.ts';
import { lifecycleBody, thresholdBody } from '../receipts/index.ts';
import { join } from 'node:path';
import type { NoteSigner } from '../receipts/index.ts';
import { loadSigningKey, LogPublisher, ReceiptLog, StaleResumeError, type Durability } from '../receipts/store/index.ts';
import { createApp } from '../webhook/app.ts';
import { LogReplay, type ReplayState } from '../webhook/log-replay.ts';
import { PolicyReceipts } from '../webhook/policy-receipts.ts';
import { RecordedGovernor } from '../webhook/recorded-governor.ts';
import type { CommandIO } from './io.ts';
import type { FeedFactory } from './policy-feed.ts';
import type { ListenAddress } from './listen.ts';
import { loadRunState, saveRunState, type RunState } from './run-state.ts';

export const TAI_VERSION = '0.1.0';

export interface ServerOptions {
  /** Where policy comes from: a folder (embedded) or the Kubernetes API (cluster). */
  feed: FeedFactory;
  listen: ListenAddress;
  logDir: string;
  /** Checkpoint signing key file; made on first start when missing. */
  keyPath: string;
  /** The log's origin line (and signing key name). */
  origin: string;
  /** Entries between saves of the local run state that bounds replay at start. */
  stateEvery: number;
  durability: Durability;
  clock: Clock;
  io: CommandIO;
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/**
 * The governor, assembled: the receipt log is opened and replayed first (usage, idempotent answers, last
 * recorded policy), then the policy feed loads its first state, then the server listens. Returns once it listens.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { io, clock } = opts;
  const compiler = new PolicyCompiler();
  const key = await loadSigningKey({ path: opts.keyPath, name: opts.origin, create: true });
  if (key.created) io.out(`tai: made checkpoint signing key ${opts.keyPath}`);
  io.out(`tai: checkpoints are signed by verifier key ${key.verifierKey}`);
  const statePath = join(opts.logDir, 'state.json');
  const { log, replay, publisher } = await openLog({ ...opts, signer: key.signer, saved: await loadRunState(statePath) }).catch((e: unknown) => {
    if (!(e instanceof StaleResumeError)) throw e;
    io.out(`tai: ${statePath} is stale; replaying the whole log`);
    return openLog({ ...opts, signer: key.signer, saved: undefined });
  });
  const { recovery } = log;
  io.out(
    `tai: receipt log ${opts.logDir}: ${log.size} entries (${log.size - recovery.resumedAt} replayed${recovery.resumedAt ? ` after the saved state at ${recovery.resumedAt}` : ''})` +
      (recovery.truncatedBytes ? `, ${recovery.truncatedBytes} bytes of an unfinished write cut off` : ''),
  );
  const compiled = new CompiledPolicy(compiler);
  const usage = new MemoryUsageStore();
  const policyReceipts = new PolicyReceipts(log, replay.effective);
  const feed = opts.feed({
    compiler,
    usage,
    clock,
    io,
    onSnapshot: (snapshot) => policyReceipts.record(snapshot, (name) => feed.tenantResource(name)),
  });
  const governor = new Governor({
    policy: compiled,
    clock,
    usage,
    onThreshold: (e) => {
      log.append('threshold', thresholdBody({ ...e, windowStart: e.windowStart }));
      io.out(`tai: threshold: tenant ${e.tenant} ${e.metric} crossed ${e.threshold}% (${e.used}/${e.limit})`);
      feed.onThreshold?.(e);
    },
  });
  replay.restore(governor);
  log.append('lifecycle', lifecycleBody({ event: 'start', version: TAI_VERSION }));
  await feed.start();
  await log.flush();
  await publisher.publish();
  let savedAt = log.recovery.resumedAt;
  const saveState = async (): Promise<void> => {
    // Taken in one tick, so usage and answers match the log exactly at this size; written once it is durable.
    const replayState = { cells: [...governor.usage.cells()], answers: [...governor.idempotency.entries(clock.now())], effective: Object.fromEntries(policyReceipts.recorded) };
    const pointing = log.captureResumePoint();
    const size = log.size;
    savedAt = size;
    const [point, published] = await Promise.all([pointing, publisher.stateAt(size)]);
    await saveRunState(statePath, { version: 1, log: point, publisher: published, replay: replayState as ReplayState });
  };
  // A signed checkpoint at least every second while entries arrive (design §5); the run state every `stateEvery` entries.
  const checkpoints = setInterval(() => {
    publisher
      .publish()
      .then(() => (log.durableSize - savedAt >= opts.stateEvery ? saveState() : undefined))
      .catch((e: unknown) => io.err(`tai: publishing the log failed: ${String(e)}`));
  }, 1000);
  const app = createApp({
    decisions: new RecordedGovernor(governor, log),
    tenant: (name) => compiled.tenant(name, clock.now()),
    logDir: opts.logDir,
    readiness: () => feed.readiness(),
    onError: (error, path) => io.err(`tai: internal error on ${path}: ${(error as Error).stack ?? String(error)}`),
  });
  const server = await listen(app.fetch, opts.listen);
  const url = `http://${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host}:${addressPort(server)}`;
  io.out(`tai: serving decisions on ${url} (${feed.description}; durability ${opts.durability})`);
  return {
    url,
    stop: async () => {
      await feed.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      clearInterval(checkpoints);
      log.append('lifecycle', lifecycleBody({ event: 'stop', version: TAI_VERSION }));
      await log.close();
      await publisher.publish();
      await saveState();
    },
  };
}

/** Opens the log resuming from the saved run state (if any), with the replay and publisher seeded from it. */
async function openLog(o: ServerOptions & { signer: NoteSigner; saved: RunState | undefined }): Promise<{ log: ReceiptLog; replay: LogReplay; publisher: LogPublisher }> {
  const replay = new LogReplay(o.saved?.replay);
  const publisher = new LogPublisher({ dir: o.logDir, origin: o.origin, signer: o.signer, resume: o.saved?.publisher });
  let replaying = true;
  const log = await ReceiptLog.open({
    dir: o.logDir,
    durability: o.durability,
    clock: o.clock,
    resume: o.saved?.log,
    onEntry: (e) => replaying && replay.add(e),
    onDurable: (e) => publisher.add(e),
  });
  replaying = false;
  return { log, replay, publisher };
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
