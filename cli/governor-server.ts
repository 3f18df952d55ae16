import { CompiledPolicy, Governor, MemoryUsageStore, PolicyCompiler, type Clock } from '../governor/index.ts';
import { lifecycleBody, thresholdBody, toHex } from '../receipts/index.ts';
import { join } from 'node:path';
import type { NoteSigner } from '../receipts/index.ts';
import { loadSigningKey, LogPublisher, ReceiptLog, StaleResumeError, type Durability } from '../receipts/store/index.ts';
import { createApp } from '../webhook/app.ts';
import { bearerAuth } from '../webhook/auth.ts';
import { createLogger, ioLogger, type Logger } from '../webhook/logger.ts';
import { ServerMetrics } from '../webhook/metrics.ts';
import { LogReplay, type ReplayState } from '../webhook/log-replay.ts';
import { PolicyReceipts } from '../webhook/policy-receipts.ts';
import { checkEntitlementsReceipt } from '../webhook/reconcile-size.ts';
import { RecordedGovernor } from '../webhook/recorded-governor.ts';
import { anchorReporting, type AnchorConfig } from './anchoring.ts';
import { openVerifier, type AuthConfig } from './auth-config.ts';
import { listenOn, type TlsPaths } from './http-listener.ts';
import type { CommandIO } from './io.ts';
import type { FeedFactory } from './policy-feed.ts';
import type { ListenAddress } from './listen.ts';
import { loadRunState, saveRunState, type RunState } from './run-state.ts';
import { resolveOrigin } from './log-origin.ts';
import { recordPolicyChanges, type Schedule } from './policy-boundaries.ts';

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
  /** HTTPS with these files (reloaded when they change); plain HTTP without. */
  tls?: TlsPaths | undefined;
  /** How decision API callers authenticate; `none` serves loopback only (serve checks). */
  auth: AuthConfig;
  /** Anchor the log in Cloud Storage (--gcs). */
  anchor?: AnchorConfig | undefined;
  /** `json`: pino lines for Cloud Logging (with a line per failed request); `text`: `tai: …` lines. */
  logFormat?: 'text' | 'json';
  clock: Clock;
  /** Timers for Quota validity boundaries (default: real timers); a test fires them itself. */
  schedule?: Schedule | undefined;
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
  const { clock } = opts;
  opts = { ...opts, origin: await resolveOrigin(opts.origin, opts.logDir, () => clock.now()) };
  const logger: Logger | undefined = opts.logFormat === 'json' ? createLogger({ base: { component: 'tai' } }) : undefined;
  const io = logger ? ioLogger(logger) : opts.io;
  // A tenant whose entitlements could not be recorded is refused, its last good state kept (issue 15, defect 6).
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
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
  const anchoring = await anchorReporting({ config: opts.anchor, logDir: opts.logDir, origin: opts.origin, verifierKey: key.verifierKey, localSize: log.durableSize, durableSize: () => log.durableSize, now: () => clock.now(), io });
  const compiled = new CompiledPolicy(compiler);
  const usage = new MemoryUsageStore();
  const policyReceipts = new PolicyReceipts(log, replay.effective);
  let publishedAt = clock.now();
  const metrics = new ServerMetrics({
    defaultMetrics: true,
    logEntries: () => log.size,
    logDurableEntries: () => log.durableSize,
    checkpointAgeSeconds: () => (clock.now() - publishedAt) / 1000,
    watchStalenessSeconds: () => feed.readiness().staleMs / 1000,
    policyGeneration: () => compiler.snapshot.generation,
    tenants: () => compiler.snapshot.tenants.size,
    ...anchoring.gauges,
  });
  const feed = opts.feed({
    onReconcileError: (kind) => metrics.reconcileError(kind),
    compiler,
    usage,
    clock,
    io,
  });
  // Before the first load: every snapshot, from a load, a decision or the boundary timer, is recorded.
  const stopRecording = recordPolicyChanges({
    compiler,
    receipts: policyReceipts,
    tenantResource: (name) => feed.tenantResource(name),
    clock,
    schedule: opts.schedule,
    onError: (e) => io.err(`tai: recording a policy change failed (retried with the next change): ${String(e)}`),
  });
  const governor = new Governor({
    policy: compiled,
    clock,
    usage,
    onThreshold: (e) => {
      log.append('threshold', thresholdBody({ ...e, windowStart: e.windowStart }));
      io.out(`tai: threshold: tenant ${e.tenant} ${e.metric} crossed ${e.threshold}% (${e.used}/${e.limit})`);
      metrics.thresholdCrossing(e);
      feed.onThreshold?.(e);
    },
  });
  replay.restore(governor);
  log.append('lifecycle', lifecycleBody({ event: 'start', version: TAI_VERSION }));
  await feed.start();
  await log.flush();
  await publisher.publish();
  publishedAt = clock.now();
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
      .then(() => void (publishedAt = clock.now()))
      .then(() => (log.durableSize - savedAt >= opts.stateEvery ? saveState() : undefined))
      .catch((e: unknown) => io.err(`tai: publishing the log failed: ${String(e)}`));
  }, 1000);
  const auth = await openVerifier(opts.auth, { kube: feed.kube, now: () => clock.now(), io });
  const app = createApp({
    decisions: new RecordedGovernor(governor, log),
    tenant: (name) => compiled.tenant(name, clock.now()),
    logDir: opts.logDir,
    readiness: () => ({ ...feed.readiness(), ...anchoring.readiness() }),
    metrics,
    logger,
    auth: auth && bearerAuth({ verifier: auth.verifier, onUnavailable: (e) => io.err(`tai: cannot check a bearer token: ${(e as Error).message}`) }),
    admission: feed.admission && {
      controller: feed.admission,
      record: async (body) => {
        const appended = log.append('admission', body);
        if (log.durability === 'sync') await appended.durable;
        return { index: appended.index, leafHash: toHex(appended.leafHash) };
      },
      observe: ({ request, outcome, seconds }) => metrics.observeAdmission({ operation: request.operation, kind: request.kind.kind, allowed: outcome.allowed, reason: outcome.reason, seconds }),
    },
    onError: (error, path) => io.err(`tai: internal error on ${path}: ${(error as Error).stack ?? String(error)}`),
  });
  const server = await listenOn(app.fetch, opts.listen, opts.tls, io);
  const { url } = server;
  io.out(`tai: serving decisions on ${url} (${feed.description}; durability ${opts.durability}${feed.admission ? '; admission webhook at /admission/validate' : ''})`);
  return {
    url,
    stop: async () => {
      await feed.stop();
      stopRecording();
      auth?.close();
      await server.close();
      clearInterval(checkpoints);
      log.append('lifecycle', lifecycleBody({ event: 'stop', version: TAI_VERSION }));
      await log.close();
      await publisher.publish();
      await saveState();
      await anchoring.stop();
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
