import type { Condition } from '../crds/index.ts';

/** A condition as a reconciler states it; the helper adds the bookkeeping fields. */
export interface ConditionState {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/**
 * Sets one condition, Kubernetes-style: replaced by type, `lastTransitionTime` kept unless the status changes,
 * `observedGeneration` always set. Returns a new array in a stable order (by type); the input is not changed.
 */
export function setCondition(conditions: readonly Condition[] | undefined, next: ConditionState, at: { generation: number; now: string }): Condition[] {
  const old = conditions?.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : at.now;
  const updated: Condition = { ...next, observedGeneration: at.generation, lastTransitionTime };
  return [...(conditions ?? []).filter((c) => c.type !== next.type), updated].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/** Sets several conditions in order. */
export function setConditions(conditions: readonly Condition[] | undefined, next: readonly ConditionState[], at: { generation: number; now: string }): Condition[] {
  let out = [...(conditions ?? [])];
  for (const c of next) out = setCondition(out, c, at);
  return out;
}

/** The condition of a type, if present. */
export function conditionOf(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
