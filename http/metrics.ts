import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision } from '../governor/index.ts';
import type { Answering, DecisionService } from './decision-api.ts';

/** The decision API's operations, as the `op` label. */
export type DecisionOp = 'check' | 'consume' | 'rate' | 'batch';

/** One admission review answered, as observeAdmission takes it. `reason` is a short CamelCase code, never a message. */
export interface AdmissionObservation {
  /** CREATE, UPDATE, DELETE or CONNECT. */
  operation: string;
  /** The reviewed object's kind (Namespace, Deployment, Tenant, …). */
  kind: string;
  allowed: boolean;
  reason: string;
  seconds: number;
}

/** Gauges read at scrape time. Each is exported only when its callback is given. */
export interface ServerMetricsOptions {
  /** Also export prom-client's process_* and nodejs_* metrics into this registry (default false). */
  defaultMetrics?: boolean;
  /** A monotonic clock in ms, for the timings of httpMetrics and meteredDecisions (default performance.now). */
  now?: () => number;
  /** `tai_log_entries`: entries appended to the receipt log. */
  logEntries?: () => number;
  /** `tai_log_durable_entries`: entries of the receipt log known durable (below logEntries in async durability). */
  logDurableEntries?: () => number;
  /** `tai_log_write_failing`: 1 while the receipt log cannot write (decisions answer 503, retrying), else 0. */
  logWriteFailing?: () => number;
  /** `tai_log_publish_failing`: 1 once publishing the log has kept failing for a few seconds (/readyz not ready), else 0. */
  logPublishFailing?: () => number;
  /** `tai_log_checkpoint_age_seconds`: seconds since a signed checkpoint last covered every durable entry. */
  checkpointAgeSeconds?: () => number;
  /** `tai_watch_staleness_seconds`: seconds since the policy source was last known good; 0 when healthy. */
  watchStalenessSeconds?: () => number;
  /** `tai_policy_generation`: the compile generation being served. */
  policyGeneration?: () => number;
  /** `tai_tenants`: tenants in the served policy. */
  tenants?: () => number;
  /** `tai_anchor_lag_entries`: durable log entries the anchor bucket does not hold yet. */
  anchorLagEntries?: () => number;
  /** `tai_anchor_lag_seconds`: an upper bound on the age of the oldest entry not yet anchored; 0 when none. */
  anchorLagSeconds?: () => number;
  /** `tai_anchor_failing`: 1 while anchoring passes fail (GCS unreachable, a conflict), else 0. */
  anchorFailing?: () => number;
  /** `tai_counters_up`: with --counters, 1 while the shared counters' connection is up, else 0. */
  countersUp?: () => number;
  /** Hears each decision answered (the dashboard's decisions per interval). */
  onDecision?: (decision: Decision) => void;
}

/** Sub-millisecond in-process decisions up to a slow 1 s (a stalled fsync in sync durability). */
const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** HTTP requests and admission reviews: the API server's webhook timeout is 10 s at most. */
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const GAUGES = [
  ['logEntries', 'tai_log_entries', 'Entries appended to the receipt log.'],
  ['countersUp', 'tai_counters_up', 'With --counters: 1 while the connection to the shared counters is up, else 0 (decisions answer CountersUnavailable).'],
  ['logDurableEntries', 'tai_log_durable_entries', 'Entries of the receipt log known durable.'],
  ['logWriteFailing', 'tai_log_write_failing', '1 while the receipt log cannot write (a full disk, an I/O error; decisions answer 503, retrying), else 0.'],
  ['logPublishFailing', 'tai_log_publish_failing', '1 once publishing the log (tiles, checkpoint) has kept failing for a few seconds (/readyz not ready), else 0.'],
  ['checkpointAgeSeconds', 'tai_log_checkpoint_age_seconds', 'Seconds since a signed checkpoint last covered every durable entry.'],
  ['watchStalenessSeconds', 'tai_watch_staleness_seconds', 'Seconds since the policy source was last known good (0 when healthy).'],
  ['policyGeneration', 'tai_policy_generation', 'Compile generation of the policy being served.'],
  ['tenants', 'tai_tenants', 'Tenants in the policy being served.'],
  ['anchorLagEntries', 'tai_anchor_lag_entries', 'Durable receipt log entries the anchor bucket does not hold yet.'],
  ['anchorLagSeconds', 'tai_anchor_lag_seconds', 'Upper bound on the age of the oldest receipt not yet anchored in the bucket (0 when none).'],
  ['anchorFailing', 'tai_anchor_failing', '1 while anchoring to the bucket fails (retrying with backoff), else 0.'],
] as const;

/**
 * The governor's Prometheus metrics (design §4, `GET /metrics`), in a registry of their own: never prom-client's
 * global one, so tests and several servers in one process do not collide. Label values are bounded sets (ops,
 * CamelCase reasons, route patterns, status classes, kinds); tenants and raw paths are never labels.
 *
 * Counters and histograms are fed by `meteredDecisions`, `httpMetrics` and the observe methods; gauges are read
 * from the callbacks at scrape time. Wiring them in `startServer` (server/governor-server.ts):
 * - `logEntries: () => log.size`, `logDurableEntries: () => log.durableSize`;
 * - `checkpointAgeSeconds: () => (clock.now() - publishedAt) / 1000`, where `publishedAt = clock.now()` is set
 *   once each `publisher.publish()` resolves (a publish that finds nothing new also counts: the checkpoint still
 *   covers the log), so the age grows only while publishing fails or stalls;
 * - `watchStalenessSeconds: () => feed.readiness().staleMs / 1000`, `policyGeneration: () =>
 *   feed.readiness().generation`, `tenants: () => feed.readiness().tenants`;
 * - the Governor's `onThreshold: (e) => metrics.thresholdCrossing(e)`; the operator's reconcile failures
 *   `metrics.reconcileError(kind)`; and `createApp({ …, metrics })`, which mounts `/metrics`, `httpMetrics` and
 *   wraps the decisions in `meteredDecisions`.
 *
 * @example
 * const metrics = new ServerMetrics({ defaultMetrics: true, logEntries: () => log.size });
 * const app = createApp({ decisions, tenant, readiness, metrics });
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly now: () => number;
  readonly #decisionSeconds: Histogram<'op'>;
  readonly #decisions: Counter<'op' | 'outcome' | 'reason'>;
  readonly #admissionSeconds: Histogram<'operation' | 'kind'>;
  readonly #admissions: Counter<'kind' | 'allowed' | 'reason'>;
  readonly #httpRequests: Counter<'route' | 'status'>;
  readonly #httpSeconds: Histogram<'route'>;
  readonly #countersSeconds: Histogram<'outcome'>;
  readonly #onDecision: ((decision: Decision) => void) | undefined;
  readonly #reconcileErrors: Counter<'kind'>;
  readonly #thresholdCrossings: Counter<'metric' | 'threshold'>;
  /** Bound label children per metric, so the decision path hashes no label object per call. */
  readonly #children = new Map<Counter | Histogram, Map<string, LabelledChild>>();

  constructor(opts: ServerMetricsOptions = {}) {
    const registers = [this.registry];
    this.now = opts.now ?? (() => performance.now());
    this.#onDecision = opts.onDecision;
    this.#decisionSeconds = new Histogram({ name: 'tai_decision_duration_seconds', help: 'Time to answer a decision call (a batch as a whole), receipt included.', labelNames: ['op'], buckets: DECISION_BUCKETS, registers });
    this.#decisions = new Counter({ name: 'tai_decisions_total', help: 'Decisions answered, by op, outcome (allowed, denied, error) and reason.', labelNames: ['op', 'outcome', 'reason'], registers });
    this.#admissionSeconds = new Histogram({ name: 'tai_admission_duration_seconds', help: 'Time to answer an admission review.', labelNames: ['operation', 'kind'], buckets: REQUEST_BUCKETS, registers });
    this.#admissions = new Counter({ name: 'tai_admission_reviews_total', help: 'Admission reviews answered, by kind, allowed and reason.', labelNames: ['kind', 'allowed', 'reason'], registers });
    this.#httpRequests = new Counter({ name: 'tai_http_requests_total', help: 'HTTP requests, by route pattern and status class.', labelNames: ['route', 'status'], registers });
    this.#httpSeconds = new Histogram({ name: 'tai_http_request_duration_seconds', help: 'Time to answer an HTTP request, by route pattern.', labelNames: ['route'], buckets: REQUEST_BUCKETS, registers });
    this.#reconcileErrors = new Counter({ name: 'tai_reconcile_errors_total', help: 'Reconciles that failed, by kind.', labelNames: ['kind'], registers });
    this.#countersSeconds = new Histogram({ name: 'tai_counters_duration_seconds', help: 'With --counters: round trips to the shared counters, by outcome (ok, error).', labelNames: ['outcome'], buckets: DECISION_BUCKETS, registers });
    this.#thresholdCrossings = new Counter({ name: 'tai_threshold_crossings_total', help: 'Quota alert thresholds crossed, by metric and threshold percent.', labelNames: ['metric', 'threshold'], registers });
    for (const [option, name, help] of GAUGES) {
      const read = opts[option];
      if (read) new Gauge({ name, help, registers, collect: function (this: Gauge) { this.set(read()); } });
    }
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** The content type of metricsText (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in the Prometheus text format, gauges read now. */
  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * One decision call answered in `seconds`: `results` is its decision, or a batch's decisions, each counted under
   * its own op and reason.
   */
  observeDecision(op: DecisionOp, seconds: number, results: Decision | readonly Decision[]): void {
    this.#observe(this.#decisionSeconds, seconds, op);
    for (const d of isDecisionList(results) ? results : [results]) {
      this.#count(this.#decisions, d.op, d.allowed ? 'allowed' : 'denied', d.reason);
      this.#onDecision?.(d);
    }
  }

  /** A decision call that threw (malformed input, the log unavailable): outcome "error", reason the error's name. */
  observeDecisionError(op: DecisionOp, seconds: number, error: unknown): void {
    this.#observe(this.#decisionSeconds, seconds, op);
    this.#count(this.#decisions, op, 'error', error instanceof Error ? error.name : 'NonError');
  }

  /** One admission review answered. */
  observeAdmission(a: AdmissionObservation): void {
    this.#observe(this.#admissionSeconds, a.seconds, a.operation, a.kind);
    this.#count(this.#admissions, a.kind, String(a.allowed), a.reason);
  }

  /** One HTTP request answered; `route` is the route pattern (see routePattern), never the raw path. */
  observeHttp(route: string, status: number, seconds: number): void {
    this.#observe(this.#httpSeconds, seconds, route);
    this.#count(this.#httpRequests, route, `${Math.floor(status / 100)}xx`);
  }

  /** One round trip to the shared counters, answered (ok) or failed (unreachable, timed out). */
  observeCounters(seconds: number, ok: boolean): void {
    this.#observe(this.#countersSeconds, seconds, ok ? 'ok' : 'error');
  }

  /** A reconcile of this kind (Tenant, SKU, Quota, …) failed. */
  reconcileError(kind: string): void {
    this.#count(this.#reconcileErrors, kind);
  }

  /** A quota alert threshold was crossed; the tenant is deliberately not a label. */
  thresholdCrossing(e: { metric: string; threshold: number }): void {
    this.#count(this.#thresholdCrossings, e.metric, String(e.threshold));
  }

  #count(counter: Counter, ...values: string[]): void {
    (this.#child(counter, values) as Counter.Internal).inc();
  }

  #observe(histogram: Histogram, seconds: number, ...values: string[]): void {
    (this.#child(histogram, values) as Histogram.Internal<string>).observe(seconds);
  }

  #child(metric: Counter | Histogram, values: string[]): LabelledChild {
    let children = this.#children.get(metric);
    if (!children) this.#children.set(metric, (children = new Map()));
    const key = values.join('\0');
    let child = children.get(key);
    if (!child) children.set(key, (child = metric.labels(...values)));
    return child;
  }
}

type LabelledChild = Counter.Internal | Histogram.Internal<string>;

/**
 * The route pattern that answered (`/v1/tenants/:name/entitlements`), or `unmatched` when no route did: the raw
 * path would make one series per tenant or per probe.
 */
export function routePattern(c: Context): string {
  const route = matchedRoutes(c).at(-1);
  // Middleware registered by `use` match every request with method ALL and a wildcard path.
  if (!route || (route.method === 'ALL' && route.path.endsWith('*'))) return 'unmatched';
  return route.path;
}

/** Middleware timing every request and counting it by route pattern and status class. */
export function httpMetrics(metrics: ServerMetrics): MiddlewareHandler {
  return async (c, next) => {
    const start = metrics.now();
    await next();
    metrics.observeHttp(routePattern(c), c.res.status, (metrics.now() - start) / 1000);
  };
}

/**
 * The decision service, timed and counted per call: each decision under its op, outcome and reason; a batch's
 * duration under op=batch. A synchronous service stays synchronous.
 */
export function meteredDecisions(service: DecisionService, metrics: ServerMetrics): DecisionService {
  const timed = <T extends Decision | readonly Decision[]>(op: DecisionOp, call: () => Answering<T>): Answering<T> => {
    const start = metrics.now();
    const seconds = () => (metrics.now() - start) / 1000;
    let result: Answering<T>;
    try {
      result = call();
    } catch (e) {
      metrics.observeDecisionError(op, seconds(), e);
      throw e;
    }
    if (!(result instanceof Promise)) {
      metrics.observeDecision(op, seconds(), result);
      return result;
    }
    return result.then(
      (r) => (metrics.observeDecision(op, seconds(), r), r),
      (e: unknown) => {
        metrics.observeDecisionError(op, seconds(), e);
        throw e;
      },
    );
  };
  return {
    check: (r) => timed('check', () => service.check(r)),
    consume: (r) => timed('consume', () => service.consume(r)),
    rate: (r) => timed('rate', () => service.rate(r)),
    batch: (rs) => timed('batch', () => service.batch(rs)),
  };
}

function isDecisionList(results: Decision | readonly Decision[]): results is readonly Decision[] {
  return Array.isArray(results);
}

/** `GET /metrics` in the Prometheus text format. */
export function metricsApi(metrics: ServerMetrics): Hono {
  const app = new Hono();
  app.get('/metrics', async (c) => c.body(await metrics.metricsText(), 200, { 'content-type': metrics.contentType }));
  return app;
}
