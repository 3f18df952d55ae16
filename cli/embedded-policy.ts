import { formatPolicyError, loadManifestSet, type ManifestState, type PolicyError, type SourcedResource, type Tenant } from '../crds/index.ts';
import { diffResources, type Clock, type PolicyCompiler, type PolicySnapshot } from '../governor/index.ts';
import type { Readiness } from '../webhook/health.ts';
import { readManifestFiles, watchPolicyFolder } from './policy-folder.ts';
import { statusError } from './validate.ts';

export interface LoadReport {
  /** Problems with files and resources, each with file, line and field path. */
  problems: string[];
  counts: Record<'SKU' | 'Tenant' | 'Quota', number>;
  /** Resources changed by this load. */
  changed: number;
  snapshot: PolicySnapshot;
}

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
  #lastGood = 0;
  #loaded = false;

  readonly #onSnapshot: ((snapshot: PolicySnapshot) => void) | undefined;

  /** `onSnapshot` hears every new snapshot, before decisions see it (to record reconcile receipts). */
  constructor(opts: { dir: string; compiler: PolicyCompiler; clock: Clock; onSnapshot?: (snapshot: PolicySnapshot) => void }) {
    this.#onSnapshot = opts.onSnapshot;
    this.#dir = opts.dir;
    this.#compiler = opts.compiler;
    this.#clock = opts.clock;
    this.#lastGood = opts.clock.now();
  }

  /** Reads the folder and applies what changed. Never throws for bad content; I/O errors are problems too. */
  async load(): Promise<LoadReport> {
    let files;
    try {
      files = await readManifestFiles([this.#dir]);
    } catch (e) {
      return this.#report([`${this.#dir}: ${(e as Error).message}`], 0);
    }
    const load = loadManifestSet(files, this.#state);
    const change = diffResources(this.#resources, load.resources);
    this.#state = load.state;
    this.#resources = load.resources;
    const snapshot = this.#compiler.apply(change, this.#clock.now());
    this.#onSnapshot?.(snapshot);
    this.#loaded = true;
    return this.#report([...load.errors, ...this.#statusProblems(snapshot)].map(formatPolicyError), change.upsert.length + change.remove.length);
  }

  /** Reloads after every save; `onReload` hears each report. Returns a function that stops watching. */
  watch(onReload: (report: LoadReport) => void, onFailure: (error: unknown) => void): () => void {
    let running = Promise.resolve();
    return watchPolicyFolder(this.#dir, () => {
      // Reloads run one at a time, in order; a failure is reported and the last good state keeps serving.
      running = running.then(async () => onReload(await this.load())).catch(onFailure);
    });
  }

  /** The Tenant resource as loaded, by name. */
  tenantResource(name: string): Tenant | undefined {
    const r = this.#resources.get(`Tenant/${name}`)?.resource;
    return r?.kind === 'Tenant' ? r : undefined;
  }

  readiness(): Readiness {
    const snapshot = this.#compiler.snapshot;
    return {
      ready: this.#loaded,
      generation: snapshot.generation,
      tenants: snapshot.tenants.size,
      problems: this.#problems.length,
      staleMs: this.#problems.length > 0 ? this.#clock.now() - this.#lastGood : 0,
      source: `folder ${this.#dir}`,
    };
  }

  #statusProblems(snapshot: PolicySnapshot): PolicyError[] {
    const out: PolicyError[] = [];
    for (const [key, s] of snapshot.statuses) {
      if (s.ready) continue;
      out.push(statusError(key, s, this.#resources.get(key)));
    }
    return out;
  }

  #report(problems: string[], changed: number): LoadReport {
    this.#problems = problems;
    if (problems.length === 0) this.#lastGood = this.#clock.now();
    const counts = { SKU: 0, Tenant: 0, Quota: 0 };
    for (const r of this.#resources.values()) counts[r.resource.kind]++;
    return { problems, counts, changed, snapshot: this.#compiler.snapshot };
  }
}
