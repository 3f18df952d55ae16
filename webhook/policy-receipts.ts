import { createHash } from 'node:crypto';
import mergePatch from 'json-merge-patch';
import type { Tenant } from '../crds/index.ts';
import { effectiveDocument, type EffectiveDocument, type PolicySnapshot } from '../governor/index.ts';
import { reconcileBody } from '../receipts/index.ts';
import type { ReceiptLog } from '../receipts/store/index.ts';

/**
 * Records every change of a tenant's effective entitlements as a `reconcile` receipt holding the RFC 7396 merge
 * patch from the previous entitlements to the new ones, so the log is also the history of every policy change
 * (design §5). Starts from what the log last recorded, so a restart records nothing that did not change.
 */
export class PolicyReceipts {
  readonly #log: ReceiptLog;
  readonly #recorded: Map<string, EffectiveDocument>;
  /** Tenants whose change is not recorded yet because an append threw: the next snapshot records them. */
  readonly #pending = new Set<string>();

  constructor(log: ReceiptLog, recorded: Map<string, EffectiveDocument>) {
    this.#log = log;
    this.#recorded = recorded;
  }

  /** The last recorded effective entitlements, by tenant (saved with the run state). */
  get recorded(): ReadonlyMap<string, EffectiveDocument> {
    return this.#recorded;
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
      const compiled = snapshot.tenants.get(name);
      const doc = compiled ? effectiveDocument(compiled) : undefined;
      const patch = patchFrom(this.#recorded.get(name), doc);
      if (patch !== undefined) {
        this.#log.append('reconcile', bodyFor(name, { resource: tenantResource(name), patch }));
        if (doc === undefined) this.#recorded.delete(name);
        else this.#recorded.set(name, doc);
        appended++;
      }
      this.#pending.delete(name);
    }
    return appended;
  }
}

/** The merge patch from one recorded state to the next: undefined when equal, null when the tenant is gone. */
function patchFrom(before: EffectiveDocument | undefined, after: EffectiveDocument | undefined): unknown {
  if (after === undefined) return before === undefined ? undefined : null;
  return mergePatch.generate(before ?? {}, after);
}

function bodyFor(name: string, c: { resource: Tenant | undefined; patch: unknown }): ReturnType<typeof reconcileBody> {
  return reconcileBody({
    resource: `Tenant/${name}`,
    generation: c.resource?.metadata.generation ?? 0,
    specDigest: createHash('sha256').update(JSON.stringify(c.resource?.spec ?? null)).digest('hex'),
    patch: c.patch,
  });
}
