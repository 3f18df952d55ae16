import type { Condition } from '../crds/index.ts';
import { setConditions, type ConditionState } from './conditions.ts';
import type { Informer } from './informer.ts';
import type { KubeObject } from '../kube/index.ts';
import { metaTime } from './meta-time.ts';
import { announceReady, conditionsOf, type ReconcileContext } from './reconcile-context.ts';
import { readyCondition } from './ready.ts';

/** Keeps each SKU's status: Ready (or why not: SKUNotFound for a missing parent, InheritanceCycle, InvalidSpec). */
export class SkuReconciler {
  readonly #skus: Informer;
  readonly #ctx: ReconcileContext;

  constructor(skus: Informer, ctx: ReconcileContext) {
    this.#skus = skus;
    this.#ctx = ctx;
  }

  async reconcile(name: string): Promise<void> {
    const sku = this.#skus.get(name);
    if (!sku || sku.metadata.deletionTimestamp) return;
    const ready = readyCondition({
      generation: sku.metadata.generation ?? 0,
      compiled: this.#ctx.snapshot().statuses.get(`SKU/${name}`),
      invalid: this.#ctx.invalid(`SKU/${name}`),
    });
    if (!ready) return; // the compiler has not seen this generation yet; its change will bring us back
    const status = skuStatus(sku, ready, this.#ctx.now());
    if (await this.#ctx.writer.write('SKU', sku, status)) await announceReady(this.#ctx.events, sku, conditionsOf(sku), ready);
  }
}

/** An SKU's status from its Ready condition. Pure. */
export function skuStatus(sku: KubeObject, ready: ConditionState, now: number): { observedGeneration: number; conditions: Condition[] } {
  const generation = sku.metadata.generation ?? 0;
  return { observedGeneration: generation, conditions: setConditions(conditionsOf(sku), [ready], { generation, now: metaTime(now) }) };
}
