import { createHash } from 'node:crypto';
import mergePatch from 'json-merge-patch';
import type { Tenant } from '../crds/index.ts';
import { effectiveDocument, MarkedMap, type CompiledTenant, type EffectiveDocument, type PolicySnapshot, type Steps } from '../governor/index.ts';
import { reconcileBody, type ReceiptBody } from '../receipts/index.ts';
import { LogUnavailableError, type ReceiptLog } from '../receipts/store/index.ts';

/**
 * Records every change of a tenant's effective entitlements as a `reconcile` receipt holding the RFC 7396 merge
 * patch from the previous entitlements to the new ones, so the log is also the history of every policy change
 * (design §5). Starts from what the log last recorded, so a restart records nothing that did not change.
 */
export class PolicyReceipts {
  readonly #log: ReceiptLog;
  /** Marked: the run state's save captures it in O(1) and reads it over many ticks (issue 19). */
  readonly #recorded: MarkedMap<string, EffectiveDocument>;
  /** Tenants whose change is not recorded yet because an append threw: the next snapshot records them. */
  readonly #pending = new Set<string>();
  /** The snapshot `recordAhead` went through before it was made current, and how many of its changed tenants. */
  #ahead: { snapshot: PolicySnapshot; through: number } | undefined;

  constructor(log: ReceiptLog, recorded: ReadonlyMap<string, EffectiveDocument>) {
    this.#log = log;
    this.#recorded = new MarkedMap(recorded);
  }

  /** The last recorded effective entitlements, by tenant (saved with the run state): to read, never to change. */
  get recorded(): MarkedMap<string, EffectiveDocument> {
    return this.#recorded;
  }

  /**
   * Appends, a tenant per step, the receipts `record` would append for `next` (a snapshot about to be made current:
   * the compiler's `onCompiled`), so that a change of many tenants is recorded over several turns of the event loop
   * and `record` has nothing left to do when it is made current. Receipts, order and log position are those of
   * `record`: all of them come before any decision that reads the new snapshot. Never throws: on an append that
   * fails, or while changes wait from a log that could not write, it stops and leaves the rest to `record`.
   */
  *recordAhead(next: PolicySnapshot, tenantResource: (name: string) => Tenant | undefined): Steps<void> {
    const ahead = { snapshot: next, through: 0 };
    this.#ahead = ahead;
    for (const name of next.changed) {
      // A change left by a log that could not write is recorded first, by `record`, as it would have been.
      if (this.#pending.size > 0) return;
      try {
        const { doc, body } = this.#change(name, { compiled: next.tenants.get(name), policyGeneration: next.generation }, tenantResource);
        if (body !== undefined && !this.#appended(body)) return;
        if (body !== undefined) this.#remember(name, doc);
      } catch {
        return; // `record` appends it again and throws, as it would have without this step
      }
      ahead.through++;
      yield;
    }
  }

  /**
   * Appends a receipt for each tenant of `snapshot.changed` (and each left pending by an append that threw) whose
   * effective entitlements differ from the recorded ones; returns how many. When an append throws, the tenants not
   * yet recorded stay pending, so the policy change they made is recorded with the next snapshot, not lost.
   */
  record(snapshot: PolicySnapshot, tenantResource: (name: string) => Tenant | undefined): number {
    this.#queue(snapshot);
    let appended = 0;
    for (const name of [...this.#pending]) {
      const { doc, body } = this.#change(name, { compiled: snapshot.tenants.get(name), policyGeneration: snapshot.generation }, tenantResource);
      if (body !== undefined) {
        // While the log cannot write, this tenant and the rest stay pending: the server records them when it writes
        // again, before any decision (refused until then) can use the new policy.
        if (!this.#appended(body)) break;
        this.#remember(name, doc);
        appended++;
      }
      this.#pending.delete(name);
    }
    return appended;
  }

  /** Adds the tenants `snapshot` changed to the pending ones, less those `recordAhead` recorded for it. */
  #queue(snapshot: PolicySnapshot): void {
    const ahead = this.#ahead?.snapshot === snapshot ? this.#ahead.through : 0;
    if (this.#ahead?.snapshot === snapshot) this.#ahead = undefined;
    if (ahead === snapshot.changed.size) return;
    let skipped = 0;
    for (const name of snapshot.changed) if (++skipped > ahead) this.#pending.add(name);
  }

  #remember(name: string, doc: EffectiveDocument | undefined): void {
    if (doc === undefined) this.#recorded.delete(name);
    else this.#recorded.set(name, doc);
  }

  /** Appends a reconcile receipt; false while the log cannot write (LogUnavailableError), any other error thrown. */
  #appended(body: ReceiptBody): boolean {
    try {
      this.#log.append('reconcile', body);
      return true;
    } catch (e) {
      if (e instanceof LogUnavailableError) return false;
      throw e;
    }
  }

  /** The tenant's new document and the body recording the change to it (undefined: nothing changed). */
  #change(name: string, c: { compiled: CompiledTenant | undefined; policyGeneration: number }, tenantResource: (name: string) => Tenant | undefined): { doc: EffectiveDocument | undefined; body: ReceiptBody | undefined } {
    const { compiled, policyGeneration } = c;
    const resource = tenantResource(name);
    const doc = compiled ? effectiveDocument(compiled) : undefined;
    const patch = patchFrom(this.#recorded.get(name), doc);
    return { doc, body: patch === undefined ? undefined : bodyFor(name, { resource, patch, generation: generationOf(resource, doc, policyGeneration) }) };
  }
}

/** The merge patch from one recorded state to the next: undefined when equal, null when the tenant is gone. */
function patchFrom(before: EffectiveDocument | undefined, after: EffectiveDocument | undefined): unknown {
  if (after === undefined) return before === undefined ? undefined : null;
  return mergePatch.generate(before ?? {}, after);
}

/**
 * The receipt's generation (docs/receipts.md §3): the Tenant's metadata.generation (cluster mode); for a tenant
 * whose object has none (embedded mode: the policy folder's files carry no generation), the policy generation
 * of the snapshot that made the change; 0 when the tenant is gone.
 */
function generationOf(resource: Tenant | undefined, doc: EffectiveDocument | undefined, policyGeneration: number): number {
  if (doc === undefined) return 0;
  return resource?.metadata.generation ?? policyGeneration;
}

function bodyFor(name: string, c: { resource: Tenant | undefined; patch: unknown; generation: number }): ReceiptBody {
  return reconcileBody({
    resource: `Tenant/${name}`,
    generation: c.generation,
    specDigest: createHash('sha256').update(JSON.stringify(c.resource?.spec ?? null)).digest('hex'),
    patch: c.patch,
  });
}
