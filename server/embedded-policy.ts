import { formatPolicyError, loadManifestSetInSlices, pauseForIo, type ManifestFile, type Pause, type ManifestState, type PolicyError, type SourcedResource, type Tenant } from '../crds/index.ts';
import { diffingResources, type Clock, type PolicyCompiler, type PolicySnapshot, type ResourceStatus, type Steps } from '../governor/index.ts';
import type { Readiness } from '../readiness/index.ts';
import { applyInSlices, runInSlices } from '../recording/run-in-slices.ts';
import { digestOfManifests, readManifestFiles, watchPolicyFolder } from './policy-folder.ts';
import { pollEvery, type Poller } from './poll-every.ts';

export interface LoadReport {
  /** Problems with files and resources, each with file, line and field path. */
  problems: string[];
  counts: Record<'SKU' | 'Tenant' | 'Quota', number>;
  /** Resources changed by this load. */
  changed: number;
  snapshot: PolicySnapshot;
}

/** One read of the folder: its files, or the I/O error that stopped it; `digest` tells two reads apart. */
type FolderRead = { files: ManifestFile[]; digest: string } | { problem: string; digest: string };

/** How `EmbeddedPolicy.watch` follows the folder. */
export interface FollowOptions {
  /** Re-read the folder every `pollMs` ms as well, for mounts whose changes raise no events (default 0: off). */
  pollMs?: number;
  /** Reports changes under the folder (default `watchPolicyFolder`); a test passes one that never fires. */
  watchFolder?: (dir: string, onChange: () => void) => () => void;
  /** Runs the poll (default `pollEvery`, on real timers); a test drives the ticks itself. */
  poll?: Poller;
  /** Hears that the folder cannot be watched (inotify's watch limit, a filesystem without events) and is polled. */
  onUnwatchable?: (message: string) => void;
}

/** How often a folder that cannot be watched is re-read when no --poll-interval was asked for. */
export const FALLBACK_POLL_MS = 2000;

/**
 * Embedded mode's policy source: a folder of YAML, loaded into the compiler and reloaded on every save.
 * A broken file or resource is reported and the last good state keeps serving.
 */
export class EmbeddedPolicy {
  readonly #dir: string;
  readonly #compiler: PolicyCompiler;
  readonly #clock: Clock;
  #state: ManifestState = new Map();
  #resources: ReadonlyMap<string, SourcedResource> = new Map();
  #problems: string[] = [];
  /** When a read first found the problems the folder still has (undefined while it has none): staleness counts from it. */
  #brokenSince: number | undefined;
  #loaded = false;
  /** The load running (or the last one): the next waits for it. */
  #queue: Promise<unknown> = Promise.resolve();
  #counts: LoadReport['counts'] = { SKU: 0, Tenant: 0, Quota: 0 };
  /** What the last read found (`digestOfManifests`, or the I/O error), to skip reloads that change nothing. */
  #lastRead: string | undefined;

  readonly #pause: Pause;

  /**
   * Every new snapshot reaches the compiler's `onSnapshot` listeners (reconcile receipts). Files are parsed a few
   * documents at a time with `pause` between slices (default: a turn of the event loop), so decisions keep being
   * answered from the last snapshot while a large folder loads.
   */
  constructor(opts: { dir: string; compiler: PolicyCompiler; clock: Clock; pause?: Pause }) {
    this.#pause = opts.pause ?? pauseForIo;
    this.#dir = opts.dir;
    this.#compiler = opts.compiler;
    this.#clock = opts.clock;
  }

  /** Reads the folder and applies what changed. Never throws for bad content; I/O errors are problems too. */
  async load(): Promise<LoadReport> {
    return await this.#oneAtATime(async () => await this.#apply(await this.#readFolder()));
  }

  /**
   * Like `load`, but only when the folder holds something else than at the last applied read: an unchanged
   * folder makes no new policy generation and no report (undefined). The same I/O error twice is unchanged too.
   */
  async reload(): Promise<LoadReport | undefined> {
    return await this.#oneAtATime(async () => {
      const read = await this.#readFolder();
      return read.digest === this.#lastRead ? undefined : await this.#apply(read);
    });
  }

  /**
   * Runs loads one after the other: a change is applied in slices over many turns, and one that comes meanwhile
   * (a save, a poll, a caller's `load`) reads the folder once that one is current.
   */
  async #oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return await run;
  }

  /**
   * Reloads after every save (and every `pollMs`, if set), one reload at a time, in order; `onReload` hears each
   * report of a change, `onFailure` a reload that threw (the last good state keeps serving). Returns a function
   * that stops following.
   */
  watch(onReload: (report: LoadReport) => void, onFailure: (error: unknown) => void, follow: FollowOptions = {}): () => void {
    let running = Promise.resolve();
    const reload = (): Promise<void> =>
      (running = running
        .then(async () => {
          const report = await this.reload();
          if (report) onReload(report);
        })
        .catch(onFailure));
    let unwatch = (): void => undefined;
    let pollMs = follow.pollMs ?? 0;
    try {
      unwatch = (follow.watchFolder ?? watchPolicyFolder)(this.#dir, () => void reload());
    } catch (e) {
      // Saved edits must still be enforced, and a watch limit is no reason to stop serving: poll instead.
      pollMs ||= FALLBACK_POLL_MS;
      follow.onUnwatchable?.(`cannot watch ${this.#dir} (${(e as Error).message}): re-reading it every ${pollMs / 1000} s instead`);
    }
    const unpoll = pollMs ? (follow.poll ?? pollEvery)(pollMs, reload) : undefined;
    return () => {
      unwatch();
      unpoll?.();
    };
  }

  async #readFolder(): Promise<FolderRead> {
    try {
      const files = await readManifestFiles([this.#dir]);
      return { files, digest: digestOfManifests(files) };
    } catch (e) {
      const problem = `${this.#dir}: ${(e as Error).message}`;
      return { problem, digest: `error ${problem}` };
    }
  }

  /** Applies a read; it counts as the last read only once applied, so a reload that threw is tried again. */
  async #apply(read: FolderRead): Promise<LoadReport> {
    const report = 'problem' in read ? this.#report([read.problem], 0) : await this.#applyFiles(read.files);
    this.#lastRead = read.digest;
    return report;
  }

  async #applyFiles(files: ManifestFile[]): Promise<LoadReport> {
    const slices = { pause: this.#pause };
    const load = await loadManifestSetInSlices(files, this.#state, this.#pause);
    const change = await runInSlices(diffingResources(this.#resources, load.resources), slices);
    this.#state = load.state;
    this.#resources = load.resources;
    this.#counts = await runInSlices(countKinds(load.resources), slices);
    const snapshot = await applyInSlices(this.#compiler, change, this.#clock.now(), slices);
    this.#loaded = true;
    const problems = await runInSlices(this.#statusProblems(snapshot), slices);
    return this.#report([...load.errors, ...problems].map(formatPolicyError), change.upsert.length + change.remove.length);
  }

  /** The Tenant resource as loaded, by name. */
  tenantResource(name: string): Tenant | undefined {
    const r = this.#resources.get(`Tenant/${name}`)?.resource;
    return r?.kind === 'Tenant' ? r : undefined;
  }

  /** The folder's problems as the last read found them, as `tai validate` prints them. */
  get problems(): readonly string[] {
    return this.#problems;
  }

  readiness(): Readiness {
    const snapshot = this.#compiler.snapshot;
    return {
      ready: this.#loaded,
      generation: snapshot.generation,
      tenants: snapshot.tenants.size,
      problems: this.#problems.length,
      staleMs: this.#brokenSince === undefined ? 0 : this.#clock.now() - this.#brokenSince,
      source: `folder ${this.#dir}`,
    };
  }

  /** The resources whose compile failed, as errors at the lines they name; a step per status. */
  *#statusProblems(snapshot: PolicySnapshot): Steps<PolicyError[]> {
    const out: PolicyError[] = [];
    for (const [key, s] of snapshot.statuses) {
      if (!s.ready) out.push(statusError(key, s, this.#resources.get(key)));
      yield;
    }
    return out;
  }

  #report(problems: string[], changed: number): LoadReport {
    this.#problems = problems;
    // Until this read the folder was last known good (a good folder is not re-read to learn that it still is).
    if (problems.length === 0) this.#brokenSince = undefined;
    else this.#brokenSince ??= this.#clock.now();
    return { problems, counts: { ...this.#counts }, changed, snapshot: this.#compiler.snapshot };
  }
}

/** How many resources of each kind, a step per resource. */
function* countKinds(resources: ReadonlyMap<string, SourcedResource>): Steps<LoadReport['counts']> {
  const counts = { SKU: 0, Tenant: 0, Quota: 0 };
  for (const r of resources.values()) {
    counts[r.resource.kind]++;
    yield;
  }
  return counts;
}

/** A resource's compile status as an error at the line of the field it names. */
export function statusError(key: string, status: ResourceStatus, r: SourcedResource | undefined): PolicyError {
  const source = r?.source ?? { file: '<unknown>' };
  const line = (status.path && r?.lineOf?.(status.path)) || source.line;
  return { ...source, line, path: status.path ?? '', resource: key, message: `${key}: ${status.reason}: ${status.message}` };
}
