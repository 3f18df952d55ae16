// One entry of the log as a row of a reading: a decision's outcome, a threshold crossing (with the re-arming
// that explains a repeat), a policy change, a lifecycle event. Pure.
import type { ChainedEntry, ReceiptBody } from '../receipts/index.ts';
import { jsonSafe } from './json-safe.ts';
import type { LifecycleEvent, PolicyChange, Rearm, ThresholdCrossing } from './model.ts';
import { rfc3339FromMicros } from './time.ts';

export const text = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(jsonSafe(v)) ?? '');
const int = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** The reason of a decision about a name that is no tenant (docs/receipts.md §3). */
export const UNKNOWN_TENANT = 'UnknownTenant';

/** A consume of amount 0: it reads usage and changes nothing, whatever its `allowed` says. */
export function isPeek(body: ReceiptBody): boolean {
  return body.op === 'consume' && body.amount === 0;
}

export interface Outcome {
  tenant: string | null;
  allowed: boolean;
  reason: string;
}

export function outcome(body: ReceiptBody): Outcome {
  return { tenant: typeof body.tenant === 'string' ? body.tenant : null, allowed: body.allowed === true, reason: text(body.reason) };
}

export function lifecycleEvent(e: ChainedEntry): LifecycleEvent {
  const { body, time } = e.receipt;
  return { index: e.index, time: rfc3339FromMicros(time), event: text(body.event), version: text(body.version) };
}

/** The patch printed past this many characters is cut, naming the command that shows it whole. */
export const PATCH_LIMIT = 4000;

export function policyChange(e: ChainedEntry, patchLimit = PATCH_LIMIT): PolicyChange {
  const { body, time } = e.receipt;
  const resource = text(body.resource);
  const pretty = JSON.stringify(jsonSafe(body.patch ?? null), null, 2);
  const patch = pretty.length > patchLimit ? `${pretty.slice(0, patchLimit)}\n… (${pretty.length - patchLimit} more characters: tai log show ${e.index})` : pretty;
  const tenant = resource.startsWith('Tenant/') ? resource.slice('Tenant/'.length) : null;
  return { index: e.index, time: rfc3339FromMicros(time), resource, tenant, generation: int(body.generation), patch };
}

const counterKey = (tenant: unknown, metric: unknown, windowStart: unknown): string => JSON.stringify([tenant, metric, windowStart ?? null]);

/** What the log said of one counter: its latest re-arm per mark, and its latest crossing per threshold. */
interface CounterMarks {
  rearms: Map<number, Rearm>;
  crossed: Map<number, number>;
}

/**
 * A gauge's thresholds fire once, then re-arm when usage falls back (governor/thresholds.ts); the consume that
 * re-armed them records `rearmed` (the highest threshold still fired). Feed every decision and threshold entry
 * in log order: a crossing then names the latest consume that re-armed its threshold since the counter last
 * crossed it (or a higher one). Memory: a few marks per counter.
 */
export class Crossings {
  readonly #counters = new Map<string, CounterMarks>();

  #marks(key: string): CounterMarks {
    let marks = this.#counters.get(key);
    if (marks === undefined) this.#counters.set(key, (marks = { rearms: new Map(), crossed: new Map() }));
    return marks;
  }

  /** A decision entry: remembers the re-arm it records, if any. */
  decision(e: ChainedEntry): void {
    const { body, time } = e.receipt;
    const stillFired = num(body.rearmed);
    if (body.op !== 'consume' || stillFired === undefined) return;
    const rearm = { index: e.index, time: rfc3339FromMicros(time), used: int(body.used), limit: int(body.limit), stillFired };
    this.#marks(counterKey(body.tenant, body.subject, body.windowStart)).rearms.set(stillFired, rearm);
  }

  /** A threshold entry as a row, with the re-arm that let its threshold fire again when the log holds one. */
  crossing(e: ChainedEntry): ThresholdCrossing {
    const { body, time } = e.receipt;
    const row: ThresholdCrossing = { index: e.index, time: rfc3339FromMicros(time), tenant: text(body.tenant), metric: text(body.metric), threshold: int(body.threshold), percent: int(body.percent) };
    const used = num(body.used);
    const limit = num(body.limit);
    if (used !== undefined && limit !== undefined) Object.assign(row, { used, limit });
    if (body.windowStart !== null && body.windowStart !== undefined) return row; // a window's thresholds re-arm with the next window
    const marks = this.#marks(counterKey(body.tenant, body.metric, body.windowStart));
    const since = Math.max(-1, ...[...marks.crossed].filter(([t]) => t >= row.threshold).map(([, index]) => index));
    const rearm = [...marks.rearms.values()].filter((r) => r.stillFired < row.threshold && r.index > since).sort((a, b) => b.index - a.index)[0];
    if (rearm !== undefined) row.rearmed = rearm;
    marks.crossed.set(row.threshold, e.index);
    return row;
  }
}
