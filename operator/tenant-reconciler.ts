import type { Condition } from '../crds/index.ts';
import type { UsageStore } from '../governor/index.ts';
import { setConditions, type ConditionState } from './conditions.ts';
import type { Informer } from './informer.ts';
import type { KubeObject } from '../kube/index.ts';
import { metaTime } from './meta-time.ts';
import { announceReady, conditionsOf, type ReconcileContext, type ReconcileResult } from './reconcile-context.ts';
import { readyCondition } from './ready.ts';
import { usageStatus, type UsageRow, type UsageStatus } from './usage-summary.ts';

/** Usage in a Tenant's status is rewritten at most this often (design §2). */
export const USAGE_STATUS_EVERY_MS = 10_000;

export interface TenantReconcilerDeps {
  tenants: Informer;
  ctx: ReconcileContext;
  usage: UsageStore;
  /** How many namespaces the tenant's selector matches now. */
  namespaces: (tenant: string) => number;
  usageEveryMs?: number;
}

/**
 * Keeps each Tenant's status: Ready (or SKUNotFound, InheritanceCycle, InvalidOverrides, InvalidSpec),
 * Suspended, the namespace count, and the usage summary with QuotaWarning and QuotaExhausted. Usage changes
 * with every decision, so it is written at most once per `usageEveryMs` per tenant; other changes go at once.
 */
export class TenantReconciler {
  readonly #d: TenantReconcilerDeps;
  readonly #usageEveryMs: number;
  /** When each tenant's usage was last written. */
  readonly #usageWrittenAt = new Map<string, number>();

  constructor(deps: TenantReconcilerDeps) {
    this.#d = deps;
    this.#usageEveryMs = deps.usageEveryMs ?? USAGE_STATUS_EVERY_MS;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const tenant = this.#d.tenants.get(name);
    if (!tenant || tenant.metadata.deletionTimestamp) {
      this.#usageWrittenAt.delete(name);
      return {};
    }
    const { ctx } = this.#d;
    const ready = this.#ready(tenant);
    if (!ready) return {}; // the compiler has not seen this generation yet; its change will bring us back
    const now = ctx.now();
    const { fresh, waitMs } = this.#usage(name, now);
    const usage = waitMs <= 0 ? fresh : undefined; // undefined: keep the usage fields as they are
    const status = tenantStatus(tenant, { ready, namespaces: this.#d.namespaces(name), usage }, now);
    if (await ctx.writer.write('Tenant', tenant, status)) {
      await announceReady(ctx.events, tenant, conditionsOf(tenant), ready);
      if (usage) this.#usageWrittenAt.set(name, now);
    }
    return waitMs > 0 && fresh && usageDiffers(tenant, fresh) ? { requeueAfterMs: waitMs } : {};
  }

  #ready(tenant: KubeObject): ConditionState | undefined {
    const key = `Tenant/${tenant.metadata.name}`;
    const { ctx } = this.#d;
    return readyCondition({ generation: tenant.metadata.generation ?? 0, compiled: ctx.snapshot().statuses.get(key), invalid: ctx.invalid(key) });
  }

  /** The tenant's usage now, and how long until it may be written again (≤ 0: now). */
  #usage(name: string, now: number): { fresh: UsageStatus | undefined; waitMs: number } {
    const compiled = this.#d.ctx.snapshot().tenants.get(name);
    const fresh = compiled && usageStatus(compiled, this.#d.usage, now);
    return { fresh, waitMs: this.#usageEveryMs - (now - (this.#usageWrittenAt.get(name) ?? -Infinity)) };
  }
}

export interface TenantStatusInput {
  ready: ConditionState;
  namespaces: number;
  /** New usage, or undefined to keep what the status already says. */
  usage: UsageStatus | undefined;
}

/** A Tenant's status. Pure. */
export function tenantStatus(tenant: KubeObject, input: TenantStatusInput, now: number): Record<string, unknown> {
  const generation = tenant.metadata.generation ?? 0;
  const old = (tenant.status ?? {}) as { usage?: UsageRow[]; usagePercent?: number };
  const suspended = (tenant.spec as { suspended?: boolean } | undefined)?.suspended === true;
  const states: ConditionState[] = [
    input.ready,
    suspended
      ? { type: 'Suspended', status: 'True', reason: 'Suspended', message: 'spec.suspended is true: every decision and admission is denied' }
      : { type: 'Suspended', status: 'False', reason: 'Active', message: 'the tenant is active' },
    ...(input.usage?.conditions ?? []),
  ];
  const conditions: Condition[] = setConditions(conditionsOf(tenant), states, { generation, now: metaTime(now) });
  const usage = input.usage ? { usage: input.usage.usage, usagePercent: input.usage.usagePercent } : pick(old);
  return { observedGeneration: generation, conditions, namespaces: input.namespaces, ...usage };
}

function pick(old: { usage?: UsageRow[]; usagePercent?: number }): Record<string, unknown> {
  return { ...(old.usage ? { usage: old.usage } : {}), ...(old.usagePercent === undefined ? {} : { usagePercent: old.usagePercent }) };
}

function usageDiffers(tenant: KubeObject, fresh: UsageStatus): boolean {
  const old = (tenant.status ?? {}) as { usage?: UsageRow[] };
  return JSON.stringify(old.usage ?? []) !== JSON.stringify(fresh.usage);
}
