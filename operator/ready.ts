import type { PolicyError } from '../crds/index.ts';
import type { ResourceStatus } from '../governor/index.ts';
import type { ConditionState } from './conditions.ts';

/** What decides a resource's Ready condition: the compiler's verdict, or schema errors that kept it out. */
export interface ReadyInput {
  generation: number;
  compiled: ResourceStatus | undefined;
  invalid: readonly PolicyError[] | undefined;
}

/**
 * The Ready condition of any TAI kind; undefined while the compiler has not yet seen this generation
 * (the informer will bring it; writing now would report the previous generation as current).
 */
export function readyCondition(input: ReadyInput): ConditionState | undefined {
  if (input.invalid && input.invalid.length > 0) {
    const message = input.invalid.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
    return { type: 'Ready', status: 'False', reason: 'InvalidSpec', message: `${message} — the last valid version keeps serving` };
  }
  const c = input.compiled;
  if (c === undefined || c.generation !== input.generation) return undefined;
  if (c.ready) return { type: 'Ready', status: 'True', reason: c.reason, message: c.message || 'compiled and enforced' };
  const named = c.path && !c.message.startsWith(c.path);
  return { type: 'Ready', status: 'False', reason: c.reason, message: named ? `${c.path}: ${c.message}` : c.message };
}
