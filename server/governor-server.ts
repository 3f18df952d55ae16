import { CompiledPolicy, Governor, MemoryUsageStore, PolicyCompiler, SharedGovernor, type Clock, type ThresholdEvent, type UsageStore } from '../governor/index.ts';
import { openSharedStore, type CountersConfig, type EpochState, type ReplicaHooks, type SharedStore } from '../counters/index.ts';
import { lifecycleBody, type PredecessorInput } from '../receipts/index.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import packageJson from '../package.json' with { type: 'json' };
import type { NoteSigner } from '../receipts/index.ts';
import { loadRunState, LogDriver, LogPublisher, LogUnavailableError, ReceiptLog, StaleResumeError, type Durability, type RunState, type EntryFs, type LogHealth, type LogRetry, type PublishedHead } from '../receipts/store/index.ts';
import type { CountersReadiness, LogReadiness, Readiness } from '../readiness/index.ts';
import { createHmac } from 'node:crypto';
import type { TokenVerifier } from '../http/auth.ts';
import { DecisionRates } from '../http/ui/decision-rates.ts';
import type { UiOptions } from '../http/ui/ui-api.ts';
import { dashboardSource, type DashboardParts } from './dashboard-source.ts';
import { createApp, type AppOptions } from '../http/app.ts';
import { leanRoutes } from '../http/lean/index.ts';
import { bearerAuth } from '../http/auth.ts';
import { createLogger, ioLogger, type Logger } from '../http/logger.ts';
import { ServerMetrics } from '../http/metrics.ts';
import { LogReplay, replayStateOf, type CapturedReplayState, type ReplayState } from '../recording/log-replay.ts';
import { PolicyReceipts } from '../recording/policy-receipts.ts';
import { checkEntitlementsReceipt } from '../recording/reconcile-size.ts';
import { admissionLog } from '../http/admission/admission-log.ts';
import { RecordedGovernor, recordThreshold } from '../recording/recorded-governor.ts';
import { anchorReporting, type AnchorConfig } from './anchoring.ts';
import { openVerifier, type AuthConfig } from './auth-config.ts';
import { listenOn, type HttpLimits, type TlsPaths } from './http-listener.ts';
import type { CommandIO } from './io.ts';
import type { FeedContext, FeedFactory } from './policy-feed.ts';
import type { ListenAddress } from './listen.ts';
import { resolveOrigin } from './log-origin.ts';
import { logFolderReader } from '../receipts/client/index.ts';
import { loadServeKey } from './log-key.ts';
import { localLeafTile, publishedHeads } from './published-heads.ts';
import { recordPolicyChanges, type Schedule } from './policy-boundaries.ts';
import { PublishHealth } from './publish-health.ts';

/** The version package.json declares (shipped in the npm pack and the image), read once at load. */
export const TAI_VERSION: string = packageJson.version;

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
  /** Request, header and keep-alive timeouts and the connection limit (default DEFAULT_HTTP_LIMITS). */
  httpLimits?: HttpLimits | undefined;
  /** How decision API callers authenticate; `none` serves loopback only (serve checks). */
  auth: AuthConfig;
  /** Anchor the log in Cloud Storage (--gcs). */
  anchor?: AnchorConfig | undefined;
  /** The log a new log succeeds (--succeeds), asked with the resolved origin only when the log is empty. */
  predecessor?: ((origin: string) => Promise<PredecessorInput | undefined>) | undefined;
  /** Share counters with other replicas in Redis/Valkey (--counters). */
  counters?: CountersConfig | undefined;
  /** `json`: pino lines for Cloud Logging (with a line per failed request); `text`: `tai: …` lines. */
  logFormat?: 'text' | 'json';
  clock: Clock;
  /** Timers for Quota validity boundaries (default: real timers); a test fires them itself. */
  schedule?: Schedule | undefined;
  /** The entries file's file operations and the retry of a failed write (defaults: node:fs, 100 ms doubling to 5 s): tests inject faults. */
  logFs?: EntryFs | undefined;
  logRetry?: LogRetry | undefined;
  io: CommandIO;
}

export interface RunningServer {
  url: string;
  /** Stops serving and closes the log: clean, or why not (one line: what was not written, what the next start does). */
  stop(): Promise<StopOutcome>;
}

export type StopOutcome = { clean: true } | { clean: false; reason: string };

/**
 * The governor, assembled: the receipt log is opened and replayed first (usage, idempotent answers, last
 * recorded policy), then the policy feed loads its first state, then the server listens. Returns once it listens.
 */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { clock } = opts;
  opts = { ...opts, origin: await resolveOrigin(opts.origin, opts.logDir, () => clock.now()) };
  const { logger, io } = logging(opts);
  // A tenant whose entitlements could not be recorded is refused, its last good state kept (issue 15, defect 6).
  const compiler = new PolicyCompiler({ checkTenant: checkEntitlementsReceipt });
  const key = await loadServeKey({ keyPath: opts.keyPath, logDir: opts.logDir, origin: opts.origin, read: logFolderReader(opts.logDir) });
  if (key.created) io.out(`tai: made checkpoint signing key ${opts.keyPath}`);
  io.out(`tai: checkpoints are signed by verifier key ${key.verifierKey}`);
  const statePath = join(opts.logDir, 'state.json');
  const logEvents = { onHealth: (_h: LogHealth): void => undefined };
  const onHealth = (h: LogHealth): void => logEvents.onHealth(h);
  const { log, replay, publisher } = await openRecoveredLog({ ...opts, io, signer: key.signer, verifierKey: key.verifierKey, statePath, onHealth });
  const predecessor = await newLogPredecessor(log, opts); // may fail: before anything keeps the process alive
  const shared = await openCounters(opts, io, {
    observe: (ms, e) => metrics.observeCounters(ms / 1000, e === undefined),
    view: () => replay.state().cells,
  });
  const anchoring = await anchorReporting({ config: opts.anchor, logDir: opts.logDir, origin: opts.origin, verifierKey: key.verifierKey, localSize: log.durableSize, durableSize: () => log.durableSize, now: () => clock.now(), io });
  const compiled = new CompiledPolicy(compiler);
  const usage = new MemoryUsageStore();
  const policyReceipts = new PolicyReceipts(log, replay.effective);
  const publishing = new PublishHealth({ clock, io });
  const rates = new DecisionRates();
  const driver: LogDriver<CapturedReplayState> = new LogDriver({
    log,
    publisher,
    statePath,
    stateEvery: opts.stateEvery,
    // On shared counters the replay follows the log: this log's own view of usage, not the store's.
    replayState: () => (shared ? replay.capture(policyReceipts.recorded) : replayStateOf(governor, policyReceipts.recorded, clock.now())),
    clock,
    onPublish: (o) => (o.ok ? publishing.succeeded() : publishing.failed(o.error)),
    onStateError: (e) => io.err(`tai: saving ${statePath} failed (the next try comes after ${opts.stateEvery} more entries): ${errorText(e)}`),
  });
  const metrics = new ServerMetrics({
    defaultMetrics: true,
    logEntries: () => log.size,
    logDurableEntries: () => log.durableSize,
    logWriteFailing: () => (log.health.writable ? 0 : 1),
    logPublishFailing: () => publishing.failing,
    checkpointAgeSeconds: () => (clock.now() - driver.publishedAt) / 1000,
    watchStalenessSeconds: () => feed.readiness().staleMs / 1000,
    policyGeneration: () => compiler.snapshot.generation,
    tenants: () => compiler.snapshot.tenants.size,
    ...anchoring.gauges,
    ...countersGauges(shared),
    onDecision: (d) => rates.add(d.allowed, clock.now()),
  });
  const feed = opts.feed({
    onReconcileError: (kind) => metrics.reconcileError(kind),
    compiler,
    // The operator's Tenant status reads usage: on shared counters, a copy of them the leader refreshes.
    usage: statusUsage(shared, usage),
    clock,
    io,
    reservations: sharedReservations(shared, opts.origin),
  });
  const stopMirror = mirrorForLeader(shared, () => feed.readiness().operator?.leader === true);
  // Before the first load: every snapshot, from a load, a decision or the boundary timer, is recorded.
  const stopRecording = recordPolicyChanges({
    compiler,
    receipts: policyReceipts,
    tenantResource: (name) => feed.tenantResource(name),
    clock,
    schedule: opts.schedule,
    onError: (e) => io.err(`tai: recording a policy change failed (retried with the next change): ${String(e)}`),
  });
  const onThreshold = (e: ThresholdEvent): void => {
    recordThreshold(log, e);
    io.out(`tai: threshold: tenant ${e.tenant} ${e.metric} crossed ${e.threshold}% (${e.used}/${e.limit})`);
    metrics.thresholdCrossing(e);
    feed.onThreshold?.(e);
  };
  const governor = new Governor({ policy: compiled, clock, usage, onThreshold });
  replay.restore(governor);
  const decider = shared ? new SharedGovernor({ policy: compiled, clock, counters: shared.counters, answers: shared.answers, onThreshold }) : governor;
  logEvents.onHealth = logHealthReporter({ io, clock, onRecovered: () => policyReceipts.record(compiler.snapshot, (name) => feed.tenantResource(name)) });
  log.append('lifecycle', lifecycleBody({ event: 'start', version: TAI_VERSION, predecessor }));
  await feed.start();
  // A log that cannot write at start (a full disk) is not fatal: the server starts not ready and recovers by itself.
  await log.flush().catch((e: unknown) => {
    if (!(e instanceof LogUnavailableError)) throw e;
  });
  // Not while the log cannot write: nothing new is durable, and a failed publish would fail every later one.
  if (log.health.writable) await driver.publish();
  driver.start();
  const auth = await openVerifier(opts.auth, { kube: feed.kube, now: () => clock.now(), io });
  const readiness = (): Readiness => ({ ...feed.readiness(), ...anchoring.readiness(), log: logReadiness(log.health), publish: publishing.readiness(), ...countersReadiness(shared) });
  const ui = await dashboard({ opts, parts: { compiler, compiled, decider, feed, readiness, rates, clock, logDir: opts.logDir, log: () => ({ entries: log.size, checkpointAgeSeconds: (clock.now() - driver.publishedAt) / 1000 }) }, verifier: auth?.verifier });
  const appOptions: AppOptions = {
    // On shared counters an answer names the log that recorded it: another replica may give it back.
    decisions: new RecordedGovernor(decider, log, { ...(shared && { origin: opts.origin }) }),
    tenant: (name) => compiled.tenant(name, clock.now()),
    logDir: opts.logDir,
    readiness,
    ui,
    metrics,
    logger,
    auth: auth && bearerAuth({ verifier: auth.verifier, onUnavailable: (e) => io.err(`tai: cannot check a bearer token: ${(e as Error).message}`) }),
    admission: feed.admission && {
      controller: feed.admission,
      ...admissionLog(log),
      observe: ({ request, outcome, seconds }) => metrics.observeAdmission({ operation: request.operation, kind: request.kind.kind, allowed: outcome.allowed, reason: outcome.reason, seconds }),
    },
    onError: (error, path) => io.err(`tai: internal error on ${path}: ${(error as Error).stack ?? String(error)}`),
  };
  const app = createApp(appOptions);
  const server = await listenOn(app.fetch, { at: opts.listen, tls: opts.tls, io, limits: opts.httpLimits, lean: leanRoutes(appOptions) });
  const { url } = server;
  io.out(`tai: serving decisions on ${url} (${feed.description}; durability ${opts.durability}${feed.admission ? '; admission webhook at /admission/validate' : ''})`);
  return {
    url,
    stop: async () => {
      await feed.stop();
      auth?.close();
      await server.close();
      // After the last request: a boundary refresh during one is still recorded; before the stop receipt.
      stopRecording();
      const problems = await driver.close((l) => l.append('lifecycle', lifecycleBody({ event: 'stop', version: TAI_VERSION })));
      await anchoring.stop();
      stopMirror();
      await shared?.close();
      return problems.length === 0 ? { clean: true } : { clean: false, reason: problems.join('; ') };
    },
  };
}

/** `json`: pino lines for Cloud Logging, through which the server's own lines go too; else the command's io. */
function logging(opts: ServerOptions): { logger: Logger | undefined; io: CommandIO } {
  const logger = opts.logFormat === 'json' ? createLogger({ base: { component: 'tai' } }) : undefined;
  return { logger, io: logger ? ioLogger(logger) : opts.io };
}

/** What a new log's first entry, the start receipt, names as the log it succeeds (--succeeds); none for an older log. */
async function newLogPredecessor(log: ReceiptLog, opts: ServerOptions): Promise<PredecessorInput | undefined> {
  return log.size === 0 ? await opts.predecessor?.(opts.origin) : undefined;
}

/**
 * The shared counters of --counters (undefined without): opened without waiting for the store, which may be down.
 * The epoch this replica last counted in is kept beside its log (LOG/counters-epoch), so a store that lost its
 * data while the replica was down is noticed at its start and its log's view folded in.
 */
async function openCounters(opts: ServerOptions, io: CommandIO, hooks: Pick<ReplicaHooks, 'observe' | 'view'>): Promise<SharedStore | undefined> {
  if (opts.counters === undefined) return undefined;
  const epochPath = join(opts.logDir, 'counters-epoch');
  const lastEpoch = await readFile(epochPath, 'utf8').then((t) => t.trim() || undefined, () => undefined);
  const onEpoch = (e: EpochState): void => {
    if (e.state === 'ready') void writeFile(epochPath, `${e.epoch}\n`).catch((err: unknown) => io.err(`tai: cannot write ${epochPath}: ${errorText(err)}`));
    if (e.state === 'ready') io.out(`tai: shared counters ready (epoch ${e.epoch})`);
    if (e.state === 'restoring') io.err(`tai: the shared counters lost their data: restoring them from the replicas' logs (epoch ${e.epoch}, waiting for ${e.waitingFor.join(', ') || 'none'}); meanwhile hard quotas deny (CountersUnavailable)`);
  };
  const store = await openSharedStore(opts.counters, opts.origin, { ...hooks, lastEpoch, onEpoch });
  const url = new URL(opts.counters.url);
  io.out(`tai: counters shared in ${url.protocol}//${url.host}${url.pathname} (while it is unreachable, hard quotas deny and the rest allow: CountersUnavailable)`);
  return store;
}

/** Cluster admission's reservations shared in the store, under this replica's origin (none without --counters). */
function sharedReservations(shared: SharedStore | undefined, origin: string): FeedContext['reservations'] {
  return shared && { store: shared.reservations, replica: origin };
}

/**
 * The dashboard's options: its reading of the server, and who may see it — the decision API's token verifier
 * (none: open, as the server then listens on loopback only). Sessions are signed with a key derived from the
 * checkpoint signing key, so replicas sharing that key accept each other's sign-ins behind one load balancer.
 */
async function dashboard(d: { opts: ServerOptions; parts: DashboardParts; verifier: TokenVerifier | undefined }): Promise<UiOptions> {
  const sessionKey = createHmac('sha256', await readFile(d.opts.keyPath)).update('tai dashboard session v1').digest();
  const checkpointPath = join(d.opts.logDir, 'checkpoint');
  return {
    source: dashboardSource(d.parts),
    access: { verifier: d.verifier, sessionKey, secure: d.opts.tls !== undefined, now: () => d.opts.clock.now() },
    checkpoint: () => readFile(checkpointPath, 'utf8').catch(() => undefined),
  };
}

function statusUsage(shared: SharedStore | undefined, usage: UsageStore): UsageStore {
  return shared ? shared.mirror : usage;
}

/** How often the leader refreshes its copy of the shared counters: as often as it writes usage to status. */
const MIRROR_EVERY_MS = 10_000;

/** On shared counters, refreshes the usage copy the operator's status reads, while this replica leads. */
function mirrorForLeader(shared: SharedStore | undefined, leading: () => boolean): () => void {
  if (!shared) return () => undefined;
  const timer = setInterval(() => void (leading() && shared.mirror.refresh().catch(() => undefined)), MIRROR_EVERY_MS).unref();
  return () => clearInterval(timer);
}

function countersGauges(shared: SharedStore | undefined): { countersUp?: () => number } {
  return shared ? { countersUp: () => (shared.health().connected ? 1 : 0) } : {};
}

function countersReadiness(shared: SharedStore | undefined): { counters?: CountersReadiness } {
  if (!shared) return {};
  const { epoch, ...health } = shared.health();
  return { counters: { ...health, state: epoch.state, ...(epoch.state === 'restoring' && { waitingFor: epoch.waitingFor }) } };
}

/** /readyz's view of the log's health. */
function logReadiness(h: LogHealth): LogReadiness {
  if (h.writable) return { writable: true };
  return { writable: false, error: h.error, failingSince: new Date(h.since).toISOString(), pendingEntries: h.pendingEntries, attempts: h.attempts };
}

/** One line when the log stops writing, one when it writes again (then the policy changes it could not record). */
function logHealthReporter(c: { io: CommandIO; clock: Clock; onRecovered: () => void }): (h: LogHealth) => void {
  let since = 0;
  return (h) => {
    if (!h.writable) {
      since = h.since;
      c.io.err(`tai: the receipt log cannot write (${h.error}): decisions answer 503 and /readyz is not ready; retrying until it can (${h.pendingEntries} entries wait)`);
      return;
    }
    c.io.out(`tai: the receipt log writes again after ${((c.clock.now() - since) / 1000).toFixed(1)} s; decisions are answered`);
    try {
      c.onRecovered();
    } catch (e) {
      c.io.err(`tai: recording policy changes after the log recovered failed: ${errorText(e)}`);
    }
  };
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Opens the log as startServer needs it: checked against every head already published (the server refuses to
 * start on history it would rewrite), resumed from state.json unless that is stale, and what recovery did printed.
 */
async function openRecoveredLog(o: ServerOptions & { io: CommandIO; signer: NoteSigner; verifierKey: string; statePath: string; onHealth: (h: LogHealth) => void }): Promise<Awaited<ReturnType<typeof openLog>>> {
  const { io, statePath } = o;
  const published = await publishedHeads({ logDir: o.logDir, anchor: o.anchor, origin: o.origin, verifierKey: o.verifierKey, io });
  const opened = await openLog({ ...o, published, saved: await loadRunState<ReplayState>(statePath) }).catch((e: unknown) => {
    if (!(e instanceof StaleResumeError)) throw e;
    io.out(`tai: ${statePath} is stale; replaying the whole log`);
    return openLog({ ...o, published, saved: undefined });
  });
  const { log } = opened;
  const { recovery } = log;
  io.out(
    `tai: receipt log ${o.logDir}: ${log.size} entries (${log.size - recovery.resumedAt} replayed${recovery.resumedAt ? ` after the saved state at ${recovery.resumedAt}` : ''})` +
      (recovery.truncatedBytes ? `, ${recovery.truncatedBytes} bytes of an unfinished write cut off` : ''),
  );
  for (const note of recovery.notes) io.err(`tai: ${note}`);
  return opened;
}

/** Opens the log resuming from the saved run state (if any), with the replay and publisher seeded from it. */
async function openLog(o: ServerOptions & { signer: NoteSigner; published: PublishedHead[]; saved: RunState<ReplayState> | undefined; onHealth: (h: LogHealth) => void }): Promise<{ log: ReceiptLog; replay: LogReplay; publisher: LogPublisher }> {
  const shared = o.counters !== undefined;
  // Replicas sharing counters keep idempotent answers in the store, and follow their own log's usage as it grows.
  const replay = new LogReplay(o.saved?.replay, { answers: !shared });
  const publisher = new LogPublisher({ dir: o.logDir, origin: o.origin, signer: o.signer, resume: o.saved?.publisher });
  let replaying = true;
  const log = await ReceiptLog.open({
    dir: o.logDir,
    durability: o.durability,
    clock: o.clock,
    resume: o.saved?.log,
    published: o.published,
    leafTile: localLeafTile(o.logDir),
    onEntry: (e) => (replaying || shared) && replay.add(e),
    onDurable: (e) => publisher.add(e),
    onHealth: o.onHealth,
    ...(o.logFs && { fs: o.logFs }),
    ...(o.logRetry && { retry: o.logRetry }),
  });
  replaying = false;
  if (shared) replay.follow();
  return { log, replay, publisher };
}
