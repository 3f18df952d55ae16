import { createHash } from 'node:crypto';
import mergePatch from 'json-merge-patch';
import type { Tenant } from '../crds/index.ts';
import { effectiveDocument, MarkedMap, type CompiledTenant, type EffectiveDocument, type PolicySnapshot } from '../governor/index.ts';
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
  /** Receipt bodies made ahead by `prepare`, by tenant, with what they were made from. */
  #prepared = new Map<string, Prepared>();

  constructor(log: ReceiptLog, recorded: ReadonlyMap<string, EffectiveDocument>) {
    this.#log = log;
    this.#recorded = new MarkedMap(recorded);
  }

  /** The last recorded effective entitlements, by tenant (saved with the run state): to read, never to change. */
  get recorded(): MarkedMap<string, EffectiveDocument> {
    return this.#recorded;
  }

  /**
   * Makes the receipt bodies of compiled tenants ahead of `record`, a slice at a time with `pause` in between, so
   * that recording a change of many tenants holds the event loop only for the appends. A body is used by `record`
   * only if the tenant is compiled and recorded as it was when it was made.
   */
  async prepare(compiled: ReadonlyMap<string, CompiledTenant>, tenantResource: (name: string) => Tenant | undefined, pause: () => Promise<void>): Promise<void> {
    this.#prepared = new Map();
    let made = 0;
    for (const [name, tenant] of compiled) {
      if (++made % BODIES_PER_SLICE === 0) await pause();
      const basis = this.#recorded.get(name);
      const doc = effectiveDocument(tenant);
      const patch = patchFrom(basis, doc);
      const resource = tenantResource(name);
      // The policy generation is not known before the snapshot: record() sets it when metadata has none.
      this.#prepared.set(name, { tenant, basis, doc, body: patch === undefined ? undefined : bodyFor(name, { resource, patch, generation: resource?.metadata.generation ?? 0 }) });
    }
  }

  /**
   * Appends a receipt for each tenant of `snapshot.changed` (and each left pending by an append that threw) whose
   * effective entitlements differ from the recorded ones; returns how many. When an append throws, the tenants not
   * yet recorded stay pending, so the policy change they made is recorded with the next snapshot, not lost.
   */
  record(snapshot: PolicySnapshot, tenantResource: (name: string) => Tenant | undefined): number {
    for (const name of snapshot.changed) this.#pending.add(name);
    let appended = 0;
    for (const name of [...this.#pending]) {
      const { doc, body } = this.#change(name, { compiled: snapshot.tenants.get(name), policyGeneration: snapshot.generation }, tenantResource);
      if (body !== undefined) {
        // While the log cannot write, this tenant and the rest stay pending: the server records them when it writes
        // again, before any decision (refused until then) can use the new policy.
        if (!this.#appended(body)) break;
        if (doc === undefined) this.#recorded.delete(name);
        else this.#recorded.set(name, doc);
        appended++;
      }
      this.#pending.delete(name);
    }
    this.#prepared.clear();
    return appended;
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
    const prepared = this.#prepared.get(name);
    if (prepared && compiled === prepared.tenant && this.#recorded.get(name) === prepared.basis) {
      // Prepared before the snapshot had its generation: a tenant without metadata.generation takes it now.
      const body = prepared.body && resource?.metadata.generation === undefined ? { ...prepared.body, generation: policyGeneration } : prepared.body;
      return { doc: prepared.doc, body };
    }
    const doc = compiled ? effectiveDocument(compiled) : undefined;
    const patch = patchFrom(this.#recorded.get(name), doc);
    return { doc, body: patch === undefined ? undefined : bodyFor(name, { resource, patch, generation: generationOf(resource, doc, policyGeneration) }) };
  }
}

/** Receipt bodies made between two pauses of `prepare`. */
const BODIES_PER_SLICE = 200;

/** A body made ahead by `prepare`: valid while the tenant is compiled as `tenant` and recorded as `basis`. */
interface Prepared {
  tenant: CompiledTenant;
  basis: EffectiveDocument | undefined;
  doc: EffectiveDocument;
  body: ReceiptBody | undefined;
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
