// Usage per counter (tenant, metric, window) as the receipts recorded it, for a deployment's report: with
// counters shared among replicas (tai serve --counters), an allowed consume's receipt records the shared counter
// after it, so the counter's total in a window is the highest `used` any replica recorded there, and the allowed
// amounts of every replica's receipts add up to it when no log is missing (docs/audit.md). Pure.
import type { ReceiptBody } from '../receipts/index.ts';

/** One counter in one window: what the receipts of every log given say about it. */
export interface UsageRow {
  tenant: string;
  metric: string;
  /** Window start (ms since the epoch); null for a metric without a window. */
  windowStart: number | null;
  /** The highest `used` recorded by a consume (allowed or not) or a threshold receipt: the counter's total when shared. */
  highestUsed: number;
  /** The limit recorded with it. */
  limit: number;
  /** The origin of the log whose receipt recorded it. */
  origin: string;
  /** Allowed consumes in every log, and the units they added. */
  consumes: number;
  allowedAmount: number;
}

const key = (r: { tenant: string; metric: string; windowStart: number | null }): string => JSON.stringify([r.tenant, r.metric, r.windowStart]);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** Folds the consume decisions and threshold receipts in scope of one log (`origin`) into rows per counter. */
export class UsageTally {
  readonly #rows = new Map<string, UsageRow>();
  readonly #origin: string;

  constructor(origin: string) {
    this.#origin = origin;
  }

  /** A decision or threshold receipt's body; anything but a consume or threshold is ignored. */
  add(kind: string, body: ReceiptBody): void {
    const c = counted(kind, body);
    if (c === undefined) return;
    const row = this.#row(c);
    if (c.used > row.highestUsed) Object.assign(row, { highestUsed: c.used, limit: c.limit, origin: this.#origin });
    if (c.allowedAmount !== undefined) Object.assign(row, { consumes: row.consumes + 1, allowedAmount: row.allowedAmount + c.allowedAmount });
  }

  #row(r: { tenant: string; metric: string; windowStart: number | null; limit: number }): UsageRow {
    let row = this.#rows.get(key(r));
    const fresh = { tenant: r.tenant, metric: r.metric, windowStart: r.windowStart, highestUsed: -1, limit: r.limit, origin: this.#origin, consumes: 0, allowedAmount: 0 };
    if (row === undefined) this.#rows.set(key(r), (row = fresh));
    return row;
  }

  rows(): UsageRow[] {
    return [...this.#rows.values()];
  }
}

/** What a consume decision or threshold receipt says of its counter; `allowedAmount` for an allowed consume. */
function counted(kind: string, body: ReceiptBody): { tenant: string; metric: string; windowStart: number | null; used: number; limit: number; allowedAmount?: number } | undefined {
  const consume = kind === 'decision' && body.op === 'consume';
  if (!consume && kind !== 'threshold') return undefined;
  const c = { tenant: body.tenant, metric: consume ? body.subject : body.metric, windowStart: num(body.windowStart) ?? null, used: num(body.used), limit: num(body.limit) };
  if (!isCounted(c)) return undefined;
  return consume && body.allowed === true ? { ...c, allowedAmount: num(body.amount) ?? 0 } : c;
}

function isCounted(c: { tenant: unknown; metric: unknown; used: unknown; limit: unknown }): c is { tenant: string; metric: string; used: number; limit: number } {
  return typeof c.tenant === 'string' && typeof c.metric === 'string' && c.used !== undefined && c.limit !== undefined;
}

/** Rows of several logs as one: per counter the highest `used` of any, the consumes and amounts summed. */
export function mergeUsage(perLog: readonly (readonly UsageRow[])[]): UsageRow[] {
  const merged = new Map<string, UsageRow>();
  for (const row of perLog.flat()) {
    const seen = merged.get(key(row));
    if (seen === undefined) merged.set(key(row), { ...row });
    else Object.assign(seen, row.highestUsed > seen.highestUsed ? { highestUsed: row.highestUsed, limit: row.limit, origin: row.origin } : {}, { consumes: seen.consumes + row.consumes, allowedAmount: seen.allowedAmount + row.allowedAmount });
  }
  const order = (a: UsageRow, b: UsageRow): number => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : (a.windowStart ?? -1) - (b.windowStart ?? -1));
  return [...merged.values()].sort(order);
}
