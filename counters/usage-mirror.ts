import type { Reservation, ReserveRequest, ReserveResult, UsageCell, UsageKey, UsageReading, UsageStore, WindowStart } from '../governor/index.ts';
import type { Client } from './redis-scripts-runner.ts';

/** Keys read per SCAN step. */
const SCAN_COUNT = 1000;
const EMPTY: UsageReading = Object.freeze({ used: 0, fired: 0 });

/**
 * A read-only copy of the shared counters for what reads usage without deciding: the operator's Tenant status
 * (`status.usage`, QuotaWarning, QuotaExhausted). Refreshed as a whole by `refresh()` (SCAN of the counters, one
 * HMGET each, pipelined), so a status is as fresh as the last refresh; decisions never read it. Writing is refused.
 */
export class UsageMirror implements UsageStore {
  readonly #client: Client;
  #cells = new Map<string, UsageCell>();

  constructor(client: Client) {
    this.#client = client;
  }

  read(key: UsageKey, windowStart: WindowStart): UsageReading {
    const cell = this.#cells.get(`${key.tenant}:${key.metric}`);
    return cell !== undefined && cell.windowStart === windowStart ? { used: cell.used, fired: cell.fired } : EMPTY;
  }

  cells(): Iterable<UsageCell> {
    return this.#cells.values();
  }

  /** Reads every counter of the store again (a store that cannot be reached leaves the last copy). */
  async refresh(): Promise<void> {
    const next = new Map<string, UsageCell>();
    let cursor = '0';
    do {
      const [at, keys] = (await this.#client.sendCommand(['SCAN', cursor, 'MATCH', '{tai}:u:*', 'COUNT', String(SCAN_COUNT)])) as [string, string[]];
      cursor = at;
      const cells = await Promise.all(keys.map((k) => this.#client.sendCommand(['HMGET', k, 'w', 'u', 'f']) as Promise<Array<string | null>>));
      keys.forEach((k, i) => {
        const cell = cellOf(k, cells[i]!);
        if (cell) next.set(`${cell.tenant}:${cell.metric}`, cell);
      });
    } while (cursor !== '0');
    this.#cells = next;
  }

  reserve(_r: ReserveRequest): ReserveResult {
    throw new Error('UsageMirror is read-only: decisions count on the shared counters');
  }

  commit(_r: Reservation): void {
    throw new Error('UsageMirror is read-only');
  }

  release(_r: Reservation): void {
    throw new Error('UsageMirror is read-only');
  }

  setFired(): void {
    throw new Error('UsageMirror is read-only');
  }

  restore(): void {
    // The shared counters are restored from the logs by the replicas (counters-epoch.ts), not through a mirror.
  }
}

/** A counter's key `{tai}:u:TENANT:METRIC` (a tenant name holds no `:`) and its hash, as a cell. */
function cellOf(key: string, [w, u, f]: Array<string | null>): UsageCell | undefined {
  const rest = key.slice('{tai}:u:'.length);
  const colon = rest.indexOf(':');
  if (colon < 0 || u === null || u === undefined) return undefined;
  return { tenant: rest.slice(0, colon), metric: rest.slice(colon + 1), windowStart: w === '' || w === null || w === undefined ? null : Number(w), used: Number(u), fired: Number(f ?? 0) };
}
