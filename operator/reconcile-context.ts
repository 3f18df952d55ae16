import type { Condition, PolicyError } from '../crds/index.ts';
import type { PolicySnapshot } from '../governor/index.ts';
import { conditionOf, type ConditionState } from './conditions.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { KubeObject } from '../kube/index.ts';
import type { StatusWriter } from './status-writer.ts';

/** What every reconciler reads and writes through; tests and the operator pass their own. */
export interface ReconcileContext {
  snapshot: () => PolicySnapshot;
  /** Schema errors that keep an object's current version out of the governor, by `Kind/name`. */
  invalid: (key: string) => readonly PolicyError[] | undefined;
  writer: StatusWriter;
  events: EventRecorder;
  now: () => number;
}

/** What a reconcile asks of its queue: come back after a while (e.g. when usage may be written again). */
export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * An Event when Ready changes: a Warning naming the reason when it turns False (SKUNotFound, InheritanceCycle,
 * …), a Normal one when it recovers. Nothing while it stays as it was.
 */
export async function announceReady(events: EventRecorder, object: KubeObject, before: readonly Condition[] | undefined, after: ConditionState): Promise<void> {
  const old = conditionOf(before, 'Ready');
  if (old?.status === after.status && old.reason === after.reason) return;
  if (after.status === 'False') await events.record({ object, type: 'Warning', reason: after.reason, message: after.message });
  else if (old?.status === 'False') await events.record({ object, type: 'Normal', reason: after.reason, message: `recovered: ${after.message}` });
}

/** The status's conditions, when it has any. */
export function conditionsOf(object: KubeObject): Condition[] | undefined {
  const status = object.status as { conditions?: Condition[] } | undefined;
  return status?.conditions;
}
