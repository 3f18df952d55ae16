import type { Tenant } from '../crds/index.ts';
import type { Clock, PolicyCompiler, SharedReservations, ThresholdEvent, UsageStore } from '../governor/index.ts';
import type { KubeApi } from '../kube/index.ts';
import type { AdmissionController } from '../http/admission/index.ts';
import type { Readiness } from '../readiness/index.ts';
import type { CommandIO } from './io.ts';

/** Where the server's policy comes from: a folder of YAML (embedded mode) or the Kubernetes API (cluster mode). */
export interface PolicyFeed {
  /** Loads the first state; resolves when decisions can be served. Keeps following changes afterwards. */
  start(): Promise<void>;
  stop(): Promise<void>;
  readiness(): Readiness;
  /** The source's problems as `tai validate` prints them (file:line or object, field: message); cluster mode: none here, the resources' statuses say it. */
  problems?(): readonly string[];
  /** The Tenant as last applied (reconcile receipts name its generation and spec digest). */
  tenantResource(name: string): Tenant | undefined;
  /** For the line that says where the server listens, e.g. `embedded, policy from config/samples, watching for changes`. */
  readonly description: string;
  /** Hears every threshold crossing after its receipt is appended. */
  onThreshold?(event: ThresholdEvent): void;
  /** Cluster mode: answers the API server's AdmissionReviews from the informers' view of the cluster. */
  readonly admission?: AdmissionController;
  /** Cluster mode: the API client (for TokenReview). */
  readonly kube?: KubeApi;
}

/** What a feed is built from: the compiler it feeds (whose `onSnapshot` listeners hear every new snapshot) and the usage it reports. */
export interface FeedContext {
  compiler: PolicyCompiler;
  usage: UsageStore;
  clock: Clock;
  io: CommandIO;
  /** Hears every failed reconcile, by kind (metrics). */
  onReconcileError?: (kind: string) => void;
  /** Cluster mode with --counters: admission reservations shared with the other replicas, and this replica's name. */
  reservations?: { store: SharedReservations; replica: string } | undefined;
}

export type FeedFactory = (context: FeedContext) => PolicyFeed;
