import type { Condition } from '../crds/index.ts';
import type { ResourceStatus } from '../governor/index.ts';
import { setConditions, type ConditionState } from './conditions.ts';
import type { Informer } from './informer.ts';
import type { KubeObject } from '../kube/index.ts';
import { metaTime } from './meta-time.ts';
import { announceReady, conditionsOf, type ReconcileContext } from './reconcile-context.ts';
import { readyCondition } from './ready.ts';

/** Keeps each Quota's status: Ready (TenantNotFound, UnknownMetric, …), whether it is active, how many tenants it reaches. */
export class QuotaReconciler {
  readonly #quotas: Informer;
  readonly #ctx: ReconcileContext;

  constructor(quotas: Informer, ctx: ReconcileContext) {
    this.#quotas = quotas;
    this.#ctx = ctx;
  }

  async reconcile(name: string): Promise<void> {
    const quota = this.#quotas.get(name);
    if (!quota || quota.metadata.deletionTimestamp) return;
    const compiled = this.#ctx.snapshot().statuses.get(`Quota/${name}`);
    const ready = readyCondition({ generation: quota.metadata.generation ?? 0, compiled, invalid: this.#ctx.invalid(`Quota/${name}`) });
    if (!ready) return;
    const status = quotaStatus(quota, { ready, compiled }, this.#ctx.now());
    if (await this.#ctx.writer.write('Quota', quota, status)) await announceReady(this.#ctx.events, quota, conditionsOf(quota), ready);
  }
}

/** A Quota's status. Pure. */
export function quotaStatus(
  quota: KubeObject,
  input: { ready: ConditionState; compiled: ResourceStatus | undefined },
  now: number,
): { observedGeneration: number; conditions: Condition[]; active?: boolean; tenants?: number } {
  const generation = quota.metadata.generation ?? 0;
  const conditions = setConditions(conditionsOf(quota), [input.ready], { generation, now: metaTime(now) });
  const { active, tenants } = input.compiled ?? {};
  return { observedGeneration: generation, conditions, ...(active === undefined ? {} : { active }), ...(tenants === undefined ? {} : { tenants }) };
}
